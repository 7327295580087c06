// Package storetest is the conformance suite of the domain's store ports: both adapters — the
// embedded SQLite store (localstore) and Cosmos DB (cosmosstore) — run Run and must pass all
// of it, so the domain can rely on the conventions of the ports (internal/gdpr/ports.go) and
// nothing more. The suite is grouped by the same capabilities as the ports, and RunGroups runs
// some of the groups only, for a double that keeps some ports.
//
// Its files: brands.go, docs.go (users and contacts, and their due index), records.go (claims,
// blacklist, whitelist, tokens, erasure records), digests.go (their lists and moves for the
// hash-key rotation) and isolation.go (one brand never sees
// another's data) hold the groups; fixtures.go the fake documents and Normalize; memory.go
// Memory, the in-memory double of some ports that model tests run on, held to its groups by
// memory_test.go; bench.go Bench, the benchmarks every adapter reports with the same code.
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
	"slices"
	"testing"

	"popsell-gdpr/internal/gdpr"
)

// Store is what the suite proves: every store port of the domain (gdpr.Store).
type Store = gdpr.Store

// test is one conformance check, run against a store of its own.
type test struct {
	name string
	run  func(t *testing.T, s Store)
}

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) Store) { RunGroups(t, open) }

// RunGroups runs the groups named (every group when none is), for a double that keeps only
// some ports.
func RunGroups(t *testing.T, open func(t *testing.T) Store, names ...string) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Brands", brandTests},
		{"Users", append(docTests(users), usersOnlyTests...)},
		{"Contacts", append(append(docTests(contacts), contactsOnlyTests...), memberContactPageTests...)},
		{"Due", append(dueTests(users), dueTests(contacts)...)},
		{"Claims", claimTests},
		{"Blacklist", blacklistTests},
		{"SoftBounces", softBounceTests},
		{"Whitelist", whitelistTests},
		{"Tokens", tokenTests},
		{"Erasures", erasureTests},
		{"ClaimLists", claimListTests},
		{"Digests", digestTests},
		{"Requests", requestTests},
		{"Exports", exportTests},
		{"Isolation", isolationTests},
	}
	for _, g := range groups {
		if len(names) > 0 && !slices.Contains(names, g.name) {
			continue
		}
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
