// Package storetest is the conformance suite of gdpr.Store: every adapter — the embedded
// SQLite store, Cosmos DB, a test double — runs Run and must pass all of it, so the domain can
// rely on the conventions of the port and nothing more.
//
// What the suite assumes of an adapter:
//   - open returns a usable store for one subtest; it is called from parallel subtests. A fresh
//     empty store is simplest, but a shared one (an emulator) works too: every subtest writes
//     only under brand ids of its own, from NewBrandID.
//   - Instants are kept to at least the microsecond. The zone and the nanoseconds may be lost,
//     so documents are compared after Normalize, which truncates every time.Time to the
//     microsecond in UTC and compares with the semantics of time.Time.Equal.
//   - Nothing waits on the wall clock: expiry is decided by the times inside the documents.
//
// Every document is fake data made by the New* helpers (R-OPS-4: no real data in tests).
package storetest

import (
	"testing"

	"popsell-gdpr/internal/gdpr"
)

// test is one conformance check, run against a store of its own.
type test struct {
	name string
	run  func(t *testing.T, s gdpr.Store)
}

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) gdpr.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Brands", brandTests},
		{"Users", append(docTests(users), usersOnlyTests...)},
		{"Contacts", append(docTests(contacts), contactsOnlyTests...)},
		{"Due", append(dueTests(users), dueTests(contacts)...)},
		{"Claims", claimTests},
		{"Blacklist", blacklistTests},
		{"Whitelist", whitelistTests},
		{"Tokens", tokenTests},
		{"Erasures", erasureTests},
		{"Isolation", isolationTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, open(t))
				})
			}
		})
	}
}
