package gdpr_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
)

// callLog records which port methods a service called, in order.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, name)
}

func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

type loggingStore struct {
	*localstore.Store
	log *callLog
}

func (s loggingStore) GetClaim(ctx context.Context, b gdpr.BrandID, key string) (gdpr.Claim, error) {
	s.log.add("GetClaim")
	return s.Store.GetClaim(ctx, b, key)
}

func (s loggingStore) GetUser(ctx context.Context, b gdpr.BrandID, id string) (gdpr.User, error) {
	s.log.add("GetUser")
	return s.Store.GetUser(ctx, b, id)
}

func (s loggingStore) Claim(ctx context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	s.log.add("Claim")
	return s.Store.Claim(ctx, c)
}

type loggingQueue struct{ log *callLog }

func (q loggingQueue) Publish(context.Context, string, gdpr.Message) (string, error) {
	q.log.add("Publish")
	return "ref", nil
}

func (q loggingQueue) PublishBatch(_ context.Context, _ string, ms []gdpr.Message) ([]string, error) {
	q.log.add("PublishBatch")
	return make([]string, len(ms)), nil
}

func (loggingQueue) Cancel(context.Context, string, string) error { return nil }

type fastPasswords struct{}

func (fastPasswords) Hash(context.Context, string) (string, error) { return "$2a$04$fake", nil }

// TestResendDoesTheSameWorkForEveryAddress is review finding 7 of #10: resend answered
// measurably faster for an unknown address than for a pending signup. Both paths, and that of
// an active member, now make the same calls in the same order, so their timing tells nothing.
func TestResendDoesTheSameWorkForEveryAddress(t *testing.T) {
	ctx := t.Context()
	base, err := localstore.Open(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { base.Close() })
	log := &callLog{}
	store := loggingStore{Store: base, log: log}
	clock := clocktest.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	all := wire(t, gdpr.Core{Clock: clock}, gdpr.Platform{Store: store, Queue: loggingQueue{log}, Passwords: fastPasswords{}})
	_, _, err = all.Brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme"})
	require.NoError(t, err)
	signup := all.Signup

	form := func(email string) gdpr.SignupInput {
		return gdpr.SignupInput{Email: email, Password: "correct horse battery", AcceptTerms: true, TermsVersion: "2026-01"}
	}
	require.NoError(t, signup.Signup(ctx, "acme", form("pending@example.test")))
	require.NoError(t, signup.Signup(ctx, "acme", form("active@example.test")))
	users, err := base.ListUsers(ctx, "acme", "", 10)
	require.NoError(t, err)
	for _, u := range users {
		if u.EmailTmp == "active@example.test" {
			u.Status, u.Email, u.EmailTmp = gdpr.UserActive, u.EmailTmp, ""
			_, err := base.UpdateUser(ctx, u)
			require.NoError(t, err)
		}
	}
	clock.Advance(2 * time.Minute) // past the signup mails' interval
	log.take()

	var work [][]string
	for _, email := range []string{"pending@example.test", "stranger@example.test", "active@example.test"} {
		require.NoError(t, signup.Resend(ctx, "acme", email))
		work = append(work, log.take())
	}
	require.Equal(t, []string{"GetClaim", "GetUser", "Claim", "Publish"}, work[0], "a pending signup is mailed")
	for i, w := range work[1:] {
		require.True(t, slices.Equal(work[0], w), "address %d: %v, want %v", i+1, w, work[0])
	}
}
