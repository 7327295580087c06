package localstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// benchNow is when the seeded users are reviewed.
var benchNow = storetest.Epoch.AddDate(1, 0, 0)

const benchBrand gdpr.BrandID = "bench"

// seedUsers makes n fake users of benchBrand, of which due are due at benchNow; the others,
// like most real users, have a review scheduled months or years ahead, so the due index holds
// them all.
func seedUsers(n, due int) []gdpr.User {
	users := make([]gdpr.User, n)
	for i := range users {
		u := storetest.NewUser(benchBrand)
		u.NextReviewAt = benchNow.Add(time.Duration(1+i%1000) * 24 * time.Hour)
		if i%(n/due) == 0 {
			u.NextReviewAt = benchNow.Add(-time.Duration(i) * time.Second)
		}
		users[i] = u
	}
	return users
}

// fixture is the seeded store the benchmarks share: seeding takes seconds, and the testing
// package calls a benchmark function again for every b.N it tries.
var fixture struct {
	once  sync.Once
	dir   string
	s     *Store
	users []gdpr.User
	err   error
}

// seeded returns a store holding 100,000 users, 100 of them due.
func seeded(b *testing.B) (*Store, []gdpr.User) {
	b.Helper()
	f := &fixture
	f.once.Do(func() {
		if f.dir, f.err = os.MkdirTemp("", "localstore-bench-"); f.err != nil {
			return
		}
		if f.s, f.err = Open(filepath.Join(f.dir, "gdpr.db")); f.err != nil {
			return
		}
		f.users = seedUsers(100_000, 100)
		start := time.Now()
		f.err = f.s.BulkCreateUsers(context.Background(), f.users)
		b.Logf("seeded %d users in %v", len(f.users), time.Since(start).Round(time.Millisecond))
	})
	require.NoError(b, f.err)
	b.ResetTimer()
	return f.s, f.users
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.s != nil {
		fixture.s.Close()
	}
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// BenchmarkStore runs the benchmarks every store reports (storetest.Bench): the same code
// measures cosmosstore, so the two compare. Each run opens a fresh database file.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Store { return open(b, b.TempDir()) })
}

func BenchmarkGetUserParallel(b *testing.B) {
	s, users := seeded(b)
	ctx := b.Context()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			if _, err := s.GetUser(ctx, benchBrand, users[r.IntN(len(users))].ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBulkCreateUsers reports the seeding rate the retention benchmarks depend on.
func BenchmarkBulkCreateUsers(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			users := seedUsers(n, 100)
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				s := open(b, b.TempDir())
				b.StartTimer()
				start := time.Now()
				if err := s.BulkCreateUsers(b.Context(), users); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				b.StopTimer()
				require.NoError(b, s.Close())
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "users/s")
		})
	}
}
