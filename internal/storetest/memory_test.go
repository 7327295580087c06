package storetest_test

import (
	"testing"

	"popsell-gdpr/internal/storetest"
)

// TestMemoryConformance proves the double keeps the conventions of the ports it keeps, so a
// model test run on it says something about the real stores.
func TestMemoryConformance(t *testing.T) {
	storetest.RunGroups(t, func(*testing.T) storetest.Store { return storetest.NewMemory() },
		"Brands", "Users", "Claims", "ClaimLists", "Tokens", "Whitelist", "Requests", "Exports", "Blacklist", "SoftBounces")
}
