package cosmosstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// Benchmarks against the Cosmos emulator (@vercel/cosmosdb-server, in-memory, one Node
// process over loopback HTTP). They measure the adapter plus the SDK plus the emulator: useful
// to compare changes of this package, not as a forecast of Azure latency or RU cost. The
// emulator has no index: its due query scans the partition, Azure's uses the range index.

// BenchmarkStore runs the benchmarks every store reports (storetest.Bench): the same code
// measures localstore, so the two compare. The sub-benchmarks share the emulator, each under a
// brand of its own.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Store { return openStore(b) })
}

// BenchmarkUpdateUsersBatch100 is UpdateUsers of gdpr.MaxBatch users: one transactional
// batch of 100 ReplaceItem with If-Match, each on the version the previous round returned.
// Compare its ns/doc with BenchmarkStore/Update's ns/op (one ReplaceItem per call).
func BenchmarkUpdateUsersBatch100(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	brand := newBrand()
	us := make([]gdpr.User, gdpr.MaxBatch)
	for i := range us {
		u, err := s.CreateUser(ctx, benchUser(brand, i, benchNow.Add(time.Duration(i)*time.Hour)))
		if err != nil {
			b.Fatal(err)
		}
		us[i] = u
	}
	round := 0
	for b.Loop() {
		round++
		for i := range us {
			us[i].LastActivityAt = benchNow.Add(time.Duration(round) * time.Second)
		}
		got, err := s.UpdateUsers(ctx, brand, us)
		if err != nil {
			b.Fatal(err)
		}
		us = got
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(us)), "ns/doc")
}

var benchNow = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)

func benchUser(brand gdpr.BrandID, i int, review time.Time) gdpr.User {
	return gdpr.User{
		BrandID: brand, ID: fmt.Sprintf("usr-%08d", i), Role: gdpr.RoleVendor, Status: gdpr.UserActive,
		Kind: gdpr.SubjectMember, CreatedAt: benchNow.AddDate(-1, 0, 0), Alias: fmt.Sprintf("alias%d", i),
		FirstName: "Fake", LastName: "Bench", Email: fmt.Sprintf("bench%d@example.test", i), Language: "fr",
		Address:      gdpr.Address{Street: "1 Fake Street", City: "Testville", PostalCode: "99999", Country: "ZZ"},
		NextReviewAt: review,
	}
}
