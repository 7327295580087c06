package cosmosstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// Benchmarks against the Cosmos emulator (@vercel/cosmosdb-server, in-memory, one Node
// process over loopback HTTP). They measure the adapter plus the SDK plus the emulator: useful
// to compare changes of this package, not as a forecast of Azure latency or RU cost. The
// emulator has no index: its due query scans the partition, Azure's uses the range index.

func BenchmarkPointRead(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	brand := newBrand()
	u, err := s.CreateUser(ctx, benchUser(brand, 0, time.Time{}))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.GetUser(ctx, brand, u.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpsert is an update: ReplaceItem with If-Match on the version just returned.
func BenchmarkUpsert(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, benchUser(newBrand(), 0, time.Time{}))
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		u.LastActivityAt = benchNow.Add(time.Duration(i) * time.Second)
		if u, err = s.UpdateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateUsersBatch100 is UpdateUsers of gdpr.MaxBatch users: one transactional
// batch of 100 ReplaceItem with If-Match, each on the version the previous round returned.
// Compare its ns/doc with BenchmarkUpsert's ns/op (one ReplaceItem per call).
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

// BenchmarkDueQuery: one brand of 10,000 users of which 100 are due.
func BenchmarkDueQuery(b *testing.B) {
	const users, due = 10_000, 100
	s := openStore(b)
	ctx := context.Background()
	brand := seedDue(b, s, users, due)
	for b.Loop() {
		got, err := s.DueUsers(ctx, brand, benchNow, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != due {
			b.Fatalf("got %d due users, want %d", len(got), due)
		}
	}
	b.ReportMetric(float64(due), "due/op")
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

var seeded struct {
	once  sync.Once
	brand gdpr.BrandID
	err   error
}

// seedDue writes the population once per process (b.Loop reruns the benchmark function).
func seedDue(b *testing.B, s *Store, users, due int) gdpr.BrandID {
	b.Helper()
	seeded.once.Do(func() {
		brand := newBrand()
		ctx := context.Background()
		start := time.Now()
		jobs := make(chan int)
		errs := make(chan error, 16)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for i := range jobs {
					review := benchNow.Add(time.Duration(i+1) * time.Hour) // not due
					if i%(users/due) == 0 {
						review = benchNow.Add(-time.Duration(i+1) * time.Minute) // due
					}
					if _, err := s.CreateUser(ctx, benchUser(brand, i, review)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		for i := range users {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(errs)
		seeded.brand, seeded.err = brand, <-errs
		b.Logf("seeded %d users (%d due) in %s", users, due, time.Since(start).Round(time.Millisecond))
	})
	if seeded.err != nil {
		b.Fatal(seeded.err)
	}
	return seeded.brand
}
