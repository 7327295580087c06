package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// Bench sizes: one brand of benchUsers users, benchDue of them due, as in the sweep's performance budget.
const (
	benchUsers = 10_000
	benchDue   = 100
	// benchSeedWorkers is how many CreateUser calls seeding keeps in flight when the store has
	// no bulk insert: enough to seed the emulator in seconds, few enough not to swamp it.
	benchSeedWorkers = 8
)

// bulkUserCreator is implemented by stores that can seed many users faster than CreateUser
// (the embedded store: one transaction). Seeding is not measured, so the path taken does not
// change what is compared.
type bulkUserCreator interface {
	BulkCreateUsers(ctx context.Context, users []gdpr.User) error
}

// Bench runs the store benchmarks every adapter reports: point read, versioned update, due-index query.
//
// The same code measures every adapter through Store alone, so their numbers compare.
// open is called once per call of Bench, from the goroutine of b; the sub-benchmarks share that
// store, each under a brand of its own from NewBrandID, so a store on a shared emulator works.
// Seeding happens once per call of Bench, outside the timer, and is reused when -count runs a
// sub-benchmark again.
func Bench(b *testing.B, open func(b *testing.B) Store) {
	s := open(b)

	// PointRead and Update share one fully filled user; cur is its latest stored state.
	var cur gdpr.User
	user := func(b *testing.B) gdpr.User {
		b.Helper()
		if cur.Version == "" {
			u, err := s.CreateUser(b.Context(), NewUser(NewBrandID()))
			if err != nil {
				b.Fatal(err)
			}
			cur = u
		}
		return cur
	}

	b.Run("PointRead", func(b *testing.B) {
		want := user(b)
		ctx := b.Context()
		got, err := s.GetUser(ctx, want.BrandID, want.ID)
		if err != nil {
			b.Fatal(err)
		}
		RequireSame(b, want, got, "the document read is the one stored")
		for b.Loop() {
			if _, err := s.GetUser(ctx, want.BrandID, want.ID); err != nil {
				b.Fatal(err)
			}
		}
	})

	// Update replaces the whole document, guarded by the version the previous call returned.
	b.Run("Update", func(b *testing.B) {
		u := user(b)
		ctx := b.Context()
		start, i := u.LastActivityAt, 0
		for b.Loop() {
			i++
			u.LastActivityAt = start.Add(time.Duration(i) * time.Second)
			next, err := s.UpdateUser(ctx, u)
			if err != nil {
				b.Fatal(err)
			}
			u = next
		}
		cur = u
		got, err := s.GetUser(ctx, u.BrandID, u.ID)
		if err != nil {
			b.Fatal(err)
		}
		if got.Version != u.Version || !got.LastActivityAt.Equal(u.LastActivityAt) {
			b.Fatalf("stored version %q at %v, want the last update's %q at %v", got.Version, got.LastActivityAt, u.Version, u.LastActivityAt)
		}
	})

	// DueQuery asks for up to 1000 due users of a brand of benchUsers, benchDue of them due.
	// The others have a review scheduled one to fourteen months ahead, so a store whose query
	// scanned the brand rather than used a (brand, NextReviewAt) index would show it here.
	now := Epoch.AddDate(1, 0, 0)
	var (
		dueBrand gdpr.BrandID
		seedErr  error
	)
	b.Run(fmt.Sprintf("DueQuery/users=%d/due=%d", benchUsers, benchDue), func(b *testing.B) {
		ctx := b.Context()
		if dueBrand == "" && seedErr == nil {
			dueBrand = NewBrandID()
			start := time.Now()
			seedErr = seedUsers(ctx, s, dueUsers(dueBrand, now))
			b.Logf("seeded %d users (%d due) in %v", benchUsers, benchDue, time.Since(start).Round(time.Millisecond))
		}
		if seedErr != nil {
			b.Fatalf("seeding: %v", seedErr)
		}
		got, err := s.DueUsers(ctx, dueBrand, now, gdpr.DueCursor{}, 1000)
		if err != nil {
			b.Fatal(err)
		}
		for i, u := range got {
			if u.BrandID != dueBrand || u.NextReviewAt.After(now) || (i > 0 && u.NextReviewAt.Before(got[i-1].NextReviewAt)) {
				b.Fatalf("due user %d of %d: brand %q, NextReviewAt %v: not due at %v, or out of order", i, len(got), u.BrandID, u.NextReviewAt, now)
			}
		}
		for b.Loop() {
			got, err := s.DueUsers(ctx, dueBrand, now, gdpr.DueCursor{}, 1000)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != benchDue {
				b.Fatalf("got %d due users, want %d", len(got), benchDue)
			}
		}
	})
}

// dueUsers returns benchUsers fake users of brand, every field set; one in benchUsers/benchDue,
// spread over the id range, is due at now.
func dueUsers(brand gdpr.BrandID, now time.Time) []gdpr.User {
	users := make([]gdpr.User, benchUsers)
	for i := range users {
		u := NewUser(brand)
		u.NextReviewAt = now.AddDate(0, 1, 0).Add(time.Duration(i) * time.Hour)
		if i%(benchUsers/benchDue) == 0 {
			u.NextReviewAt = now.Add(-time.Duration(i+1) * time.Minute)
		}
		users[i] = u
	}
	return users
}

// seedUsers creates users with the store's bulk insert if it has one, else with CreateUser
// from benchSeedWorkers goroutines. It stops at the first error and returns it.
func seedUsers(ctx context.Context, s Store, users []gdpr.User) error {
	if bulk, ok := s.(bulkUserCreator); ok {
		return bulk.BulkCreateUsers(ctx, users)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan gdpr.User)
	var wg sync.WaitGroup
	for range benchSeedWorkers {
		wg.Go(func() {
			for u := range jobs {
				if _, err := s.CreateUser(ctx, u); err != nil {
					cancel(fmt.Errorf("create user %s: %w", u.ID, err))
					return
				}
			}
		})
	}
feed:
	for _, u := range users {
		select {
		case jobs <- u:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return context.Cause(ctx)
}
