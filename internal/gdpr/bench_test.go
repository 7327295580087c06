package gdpr_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localqueue"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/outbox"
)

// benchWorld is the embedded stack with a frozen clock the benchmark moves by hand.
type benchWorld struct {
	svc   *gdpr.Service
	store *localstore.Store
	queue *localqueue.Queue
	clock *frozenClock
	brand gdpr.Brand
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	dir := b.TempDir()
	store, err := localstore.Open(filepath.Join(dir, "store.db"))
	require.NoError(b, err)
	b.Cleanup(func() { store.Close() })
	clock := &frozenClock{}
	clock.Set(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	q, err := localqueue.Open(filepath.Join(dir, "queue.db"), localqueue.Options{Now: clock.Now})
	require.NoError(b, err)
	b.Cleanup(func() { q.Close() })
	mailer, err := outbox.New(filepath.Join(dir, "outbox"))
	require.NoError(b, err)
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(b, err)
	svc, err := gdpr.NewService(gdpr.Deps{Store: store, Queue: q, Mailer: mailer, Blobs: blobstore.NewFolder(filepath.Join(dir, "blobs")),
		Passwords: cheapPasswords{}, Hasher: h, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	brand, _, err := svc.PutBrand(b.Context(), "bench", gdpr.BrandSettings{Name: "Bench"})
	require.NoError(b, err)
	return &benchWorld{svc: svc, store: store, queue: q, clock: clock, brand: brand}
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
// 1M: the due index makes both cost the same (DESIGN §5, budget < 100 ms). Each iteration
// moves the clock a day on, when the same 1,000 are due again for their re-check.
func BenchmarkSweep(b *testing.B) {
	for _, total := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d/due=1000", total), func(b *testing.B) {
			w := newBenchWorld(b)
			w.seedUsers(b, total, 1000)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				w.clock.Set(w.clock.Now().Add(25 * time.Hour))
				st, err := w.svc.SweepBrand(ctx, w.brand)
				if err != nil || st.Erasures != 1000 {
					b.Fatalf("sweep: %+v %v", st, err)
				}
			}
		})
	}
}

// BenchmarkErasureWorker measures erasures per second on the embedded store, each member
// with 10 contacts (budget ≥ 2,000/s).
func BenchmarkErasureWorker(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	n := b.N
	now := w.clock.Now()
	users := make([]gdpr.User, n)
	var contacts []gdpr.Contact
	jobs := make([][]byte, n)
	for i := range n {
		u := gdpr.User{BrandID: "bench", ID: fmt.Sprintf("m_%08d", i), Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
			Status: gdpr.UserBlocked, CreatedAt: now, FirstName: "First", LastName: "Last", Email: fmt.Sprintf("user%d@example.test", i),
			Block: &gdpr.Block{Reason: gdpr.ReasonUnsubscribed, Rule: gdpr.RuleGracePeriod, RequestedAt: now.AddDate(0, 0, -8), DueAt: now.AddDate(0, 0, -1)}}
		u.NextReviewAt = u.Block.DueAt
		users[i] = u
		for j := range 10 {
			contacts = append(contacts, gdpr.Contact{BrandID: "bench", ID: fmt.Sprintf("c_%08d_%d", i, j), MemberID: u.ID,
				Email: fmt.Sprintf("c%d.%d@example.test", i, j), FirstName: "Contact", CreatedAt: now,
				BrandOptIn: gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: now}})
		}
		jobs[i] = []byte(fmt.Sprintf(`{"brandId":"bench","subjectKind":"member","subjectId":%q,"rule":"R-ERASE-5","dueAt":%q}`, u.ID, u.Block.DueAt.Format(time.RFC3339)))
	}
	require.NoError(b, w.store.BulkCreateUsers(ctx, users))
	require.NoError(b, w.store.BulkCreateContacts(ctx, contacts))
	b.ResetTimer()
	start := time.Now()
	for i := range n {
		if err := w.svc.HandleErasureJob(ctx, jobs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "erasures/s")
}
