package gdpr_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localqueue"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/storetest"
)

// benchWorld is the embedded stack with a frozen clock the benchmark moves by hand.
type benchWorld struct {
	svc   services
	store *localstore.Store
	queue *localqueue.Queue
	clock *clocktest.Manual
	brand gdpr.Brand
	dir   string
	n     int
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	dir := b.TempDir()
	store, err := localstore.Open(filepath.Join(dir, "store.db"))
	require.NoError(b, err)
	b.Cleanup(func() { store.Close() })
	clock := clocktest.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	w := &benchWorld{store: store, clock: clock, dir: dir}
	w.freshQueue(b)
	brand, _, err := w.svc.brands.PutBrand(b.Context(), "bench", gdpr.BrandSettings{Name: "Bench"})
	require.NoError(b, err)
	w.brand = brand
	return w
}

// freshQueue gives the service an empty queue, so that every sweep measured publishes new
// messages instead of meeting the ones the previous iteration left pending.
func (w *benchWorld) freshQueue(b *testing.B) {
	b.Helper()
	if w.queue != nil {
		require.NoError(b, w.queue.Close())
	}
	w.n++
	q, err := localqueue.Open(filepath.Join(w.dir, fmt.Sprintf("queue-%d.db", w.n)), localqueue.Options{Now: w.clock.Now})
	require.NoError(b, err)
	b.Cleanup(func() { q.Close() })
	w.svc = newServices(b, w.store, q, blobstore.NewFolder(filepath.Join(w.dir, "blobs")), w.clock)
	w.queue = q
}

// seedUsers creates total members of which due are unconfirmed signups past their 15 days;
// the others are active members whose next review is years away.
func (w *benchWorld) seedUsers(b *testing.B, total, due int) {
	b.Helper()
	now := w.clock.Now()
	const batch = 50000
	users := make([]gdpr.User, 0, batch)
	for i := range total {
		u := gdpr.User{BrandID: "bench", ID: fmt.Sprintf("m_%08d", i), Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
			Status: gdpr.UserActive, CreatedAt: now.AddDate(-1, 0, 0), ConfirmedAt: now.AddDate(-1, 0, 0),
			FirstName: "First", LastName: "Last", Email: fmt.Sprintf("user%d@example.test", i)}
		if i%(total/due) == 0 && i/(total/due) < due {
			u.Status, u.ConfirmedAt, u.EmailTmp, u.Email = gdpr.UserPending, time.Time{}, u.Email, ""
			u.CreatedAt = now.AddDate(0, 0, -16)
		}
		u.NextReviewAt = gdpr.NextReview(u, w.brand)
		users = append(users, u)
		if len(users) == batch || i == total-1 {
			require.NoError(b, w.store.BulkCreateUsers(b.Context(), users))
			users = users[:0]
		}
	}
}

// BenchmarkSweep measures one retention sweep of a brand with 1,000 due users among 10k and
// 1M: the due index makes both cost about the same (budget < 100 ms). The jobs are
// not consumed, so the same 1,000 stay due; each iteration gets an empty queue.
func BenchmarkSweep(b *testing.B) {
	for _, total := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d/due=1000", total), func(b *testing.B) {
			w := newBenchWorld(b)
			w.seedUsers(b, total, 1000)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				w.freshQueue(b)
				b.StartTimer()
				st, err := w.svc.retention.SweepBrand(ctx, w.brand)
				if err != nil || st.Erasures != 1000 {
					b.Fatalf("sweep: %+v %v", st, err)
				}
			}
		})
	}
}

// BenchmarkContactSweep is BenchmarkSweep for contacts (issue #14): 1,000 contacts never
// invited past their 30 days among 100k and 1M, the rest with an opt-in and recent activity.
// The due index makes both cost about the same; the jobs are not consumed, so the same 1,000
// stay due, and each iteration gets an empty queue.
func BenchmarkContactSweep(b *testing.B) {
	for _, total := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("contacts=%d/due=1000", total), func(b *testing.B) {
			w := newBenchWorld(b)
			w.seedContacts(b, total, 1000)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				w.freshQueue(b)
				b.StartTimer()
				st, err := w.svc.all.ContactRetention.SweepBrand(ctx, w.brand)
				if err != nil || st.Erasures != 1000 {
					b.Fatalf("sweep: %+v %v", st, err)
				}
			}
		})
	}
}

// seedContacts creates total contacts of one member, due of them new and past R-RET-4.
func (w *benchWorld) seedContacts(b *testing.B, total, due int) {
	b.Helper()
	now := w.clock.Now()
	const batch = 50000
	contacts := make([]gdpr.Contact, 0, batch)
	for i := range total {
		c := gdpr.Contact{BrandID: "bench", ID: fmt.Sprintf("c_%08d", i), MemberID: "m_00000001",
			Email: fmt.Sprintf("contact%d@example.test", i), FirstName: "First", CreatedAt: now.AddDate(-1, 0, 0),
			LastActivityAt: now.AddDate(0, 0, -1), Source: gdpr.SourceOrder,
			MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInFromOrder, At: now.AddDate(-1, 0, 0)},
			BrandOptIn:  gdpr.BrandOptInState{Value: gdpr.BrandOptInDatabase, At: now.AddDate(-1, 0, 0)}}
		if i%(total/due) == 0 && i/(total/due) < due {
			c.Source, c.LastActivityAt = gdpr.SourceManual, time.Time{}
			c.MemberOptIn = gdpr.MemberOptInState{Value: gdpr.MemberOptInNew, At: now.AddDate(0, 0, -31)}
			c.BrandOptIn = gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: now.AddDate(0, 0, -31)}
		}
		c.NextReviewAt = gdpr.NextContactReview(c, w.brand)
		contacts = append(contacts, c)
		if len(contacts) == batch || i == total-1 {
			require.NoError(b, w.store.BulkCreateContacts(b.Context(), contacts))
			contacts = contacts[:0]
		}
	}
}

// BenchmarkErasureWorker measures erasures per second on the embedded store, each member
// with 10 contacts (budget ≥ 2,000/s): jobs one at a time, and in batches as local mode's
// worker takes them from the queue, by one worker or several.
func BenchmarkErasureWorker(b *testing.B) {
	for _, tc := range []struct{ batch, workers int }{{1, 1}, {1, 4}, {100, 1}, {100, 2}} {
		b.Run(fmt.Sprintf("batch=%d/workers=%d", tc.batch, tc.workers), func(b *testing.B) {
			w := newBenchWorld(b)
			ctx := context.Background()
			jobs := w.seedBlocked(b, b.N)
			b.ResetTimer()
			start := time.Now()
			next := make(chan [][]byte)
			var wg sync.WaitGroup
			for range tc.workers {
				wg.Go(func() {
					for batch := range next {
						for _, err := range w.svc.erasure.HandleErasureJobs(ctx, batch) {
							if err != nil {
								b.Error(err)
							}
						}
					}
				})
			}
			for batch := range slices.Chunk(jobs, tc.batch) {
				next <- batch
			}
			close(next)
			wg.Wait()
			b.ReportMetric(float64(len(jobs))/time.Since(start).Seconds(), "erasures/s")
		})
	}
}

// seedBlocked creates n blocked members past their grace period, 10 contacts each, and
// returns their erasure jobs.
func (w *benchWorld) seedBlocked(b *testing.B, n int) [][]byte {
	b.Helper()
	bl := storetest.NewErasureBacklog("bench", n, w.clock.Now())
	require.NoError(b, w.store.BulkCreateUsers(b.Context(), bl.Users))
	require.NoError(b, w.store.BulkCreateContacts(b.Context(), bl.Contacts))
	return bl.Jobs
}
