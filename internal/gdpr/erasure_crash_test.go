package gdpr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/outbox"
)

var errCrash = errors.New("simulated crash")

// crashPoint makes the worker die at its n-th write (store or blob), counting from 1; 0
// never. Every write after that point is refused too, as after a crash.
type crashPoint struct {
	mu     sync.Mutex
	n, at  int
	active bool
}

func (c *crashPoint) hit() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.active {
		return nil
	}
	c.n++
	if c.at > 0 && c.n >= c.at {
		return errCrash
	}
	return nil
}

type crashingStore struct {
	gdpr.Store
	crash *crashPoint
}

func (s crashingStore) UpdateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	if err := s.crash.hit(); err != nil {
		return gdpr.User{}, err
	}
	return s.Store.UpdateUser(ctx, u)
}

func (s crashingStore) UpdateContact(ctx context.Context, c gdpr.Contact) (gdpr.Contact, error) {
	if err := s.crash.hit(); err != nil {
		return gdpr.Contact{}, err
	}
	return s.Store.UpdateContact(ctx, c)
}

func (s crashingStore) UpdateContacts(ctx context.Context, b gdpr.BrandID, cs []gdpr.Contact) ([]gdpr.Contact, error) {
	if err := s.crash.hit(); err != nil {
		return nil, err
	}
	return s.Store.UpdateContacts(ctx, b, cs)
}

func (s crashingStore) UpdateUsers(ctx context.Context, b gdpr.BrandID, us []gdpr.User) ([]gdpr.User, error) {
	if err := s.crash.hit(); err != nil {
		return nil, err
	}
	return s.Store.UpdateUsers(ctx, b, us)
}

func (s crashingStore) ReleaseClaim(ctx context.Context, b gdpr.BrandID, key, owner string) error {
	if err := s.crash.hit(); err != nil {
		return err
	}
	return s.Store.ReleaseClaim(ctx, b, key, owner)
}

func (s crashingStore) PutErasure(ctx context.Context, r gdpr.ErasureRecord) (gdpr.ErasureRecord, error) {
	if err := s.crash.hit(); err != nil {
		return gdpr.ErasureRecord{}, err
	}
	return s.Store.PutErasure(ctx, r)
}

type crashingBlobs struct {
	gdpr.Blobs
	crash *crashPoint
}

func (b crashingBlobs) Delete(ctx context.Context, key string) error {
	if err := b.crash.hit(); err != nil {
		return err
	}
	return b.Blobs.Delete(ctx, key)
}

// recordingQueue keeps published messages; the test delivers them by hand.
type recordingQueue struct {
	mu   sync.Mutex
	msgs []gdpr.Message
}

func (q *recordingQueue) Publish(_ context.Context, queue string, m gdpr.Message) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, m)
	return fmt.Sprint(len(q.msgs)), nil
}

func (q *recordingQueue) PublishBatch(ctx context.Context, queue string, ms []gdpr.Message) ([]string, error) {
	refs := make([]string, len(ms))
	for i, m := range ms {
		refs[i], _ = q.Publish(ctx, queue, m)
	}
	return refs, nil
}

func (q *recordingQueue) Cancel(context.Context, string, string) error { return nil }

// frozenClock stands still between Sets, so two worlds erase at the same instants and their
// final states compare equal.
type frozenClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *frozenClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *frozenClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type cheapPasswords struct{}

func (cheapPasswords) Hash(string) (string, error) { return "$2a$04$not-a-real-hash", nil }

type crashWorld struct {
	svc   *gdpr.Service
	store gdpr.Store
	blobs gdpr.Blobs
	crash *crashPoint
	queue *recordingQueue
	clock *frozenClock
	user  gdpr.User
	job   []byte
}

// newCrashWorld seeds a blocked member with blobs and contacts, past its grace period.
func newCrashWorld(t *testing.T) *crashWorld {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	base, err := localstore.Open(filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { base.Close() })
	w := &crashWorld{crash: &crashPoint{}, queue: &recordingQueue{}, clock: &frozenClock{}}
	w.store = crashingStore{Store: base, crash: w.crash}
	w.blobs = crashingBlobs{Blobs: blobstore.NewFolder(filepath.Join(dir, "blobs")), crash: w.crash}
	mailer, err := outbox.New(filepath.Join(dir, "outbox"))
	require.NoError(t, err)
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	w.svc, err = gdpr.NewService(gdpr.Deps{Store: w.store, Queue: w.queue, Mailer: mailer, Blobs: w.blobs,
		Passwords: cheapPasswords{}, Hasher: h, Clock: w.clock})
	require.NoError(t, err)

	start := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	w.clock.Set(start)
	_, _, err = w.svc.PutBrand(ctx, "crash", gdpr.BrandSettings{Name: "Crash"})
	require.NoError(t, err)
	u := gdpr.User{BrandID: "crash", ID: "m_crash", Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
		Status: gdpr.UserActive, CreatedAt: start, ConfirmedAt: start, FirstName: "Firstcrash", LastName: "Lastcrash",
		Email: "crash@example.test", PasswordHash: "$2a$04$x", PhotoKey: "crash/users/m_crash/photo",
		UGC: []gdpr.UGC{{Key: "crash/users/m_crash/ugc/1"}}, Address: gdpr.Address{Street: "1 Crash st", City: "Lille", PostalCode: "59000"}}
	_, err = w.store.CreateUser(ctx, u)
	require.NoError(t, err)
	_, err = w.store.Claim(ctx, gdpr.Claim{BrandID: "crash", Key: gdpr.ClaimEmail + h.EmailDigest(u.Email), Owner: u.ID, CreatedAt: start})
	require.NoError(t, err)
	for _, key := range []string{u.PhotoKey, u.UGC[0].Key} {
		require.NoError(t, w.blobs.Put(ctx, key, []byte("x"), "image/jpeg"))
	}
	for i, opt := range []gdpr.BrandOptIn{gdpr.BrandOptInNone, gdpr.BrandOptInNone, gdpr.BrandOptInBlog} {
		_, err := w.store.CreateContact(ctx, gdpr.Contact{BrandID: "crash", ID: fmt.Sprintf("c_%d", i), MemberID: u.ID,
			Email: fmt.Sprintf("c%d@example.test", i), FirstName: "Contact", BrandOptIn: gdpr.BrandOptInState{Value: opt, At: start}, CreatedAt: start})
		require.NoError(t, err)
	}
	w.user, err = w.svc.BlockMember(ctx, "crash", u.ID, gdpr.ReasonUnsubscribed)
	require.NoError(t, err)
	require.Len(t, w.queue.msgs, 1)
	w.job = w.queue.msgs[0].Body
	w.clock.Set(w.user.Block.DueAt.Add(time.Second))
	return w
}

// state is what an erasure leaves, without versions and times that differ between runs.
type state struct {
	User     gdpr.User
	Contacts []gdpr.Contact
	Records  []gdpr.ErasureRecord
	Blobs    map[string]bool
	Claim    bool
}

func (w *crashWorld) state(t *testing.T) state {
	t.Helper()
	ctx := t.Context()
	u, err := w.store.GetUser(ctx, "crash", "m_crash")
	require.NoError(t, err)
	u.Version = ""
	u.Erasure.DoneAt = time.Time{}
	cs, err := w.store.ContactsOfMember(ctx, "crash", "m_crash")
	require.NoError(t, err)
	for i := range cs {
		cs[i].Version, cs[i].ErasedAt = "", time.Time{}
	}
	recs, err := w.store.ListErasures(ctx, "crash", "", 10)
	require.NoError(t, err)
	for i := range recs {
		recs[i].DoneAt = time.Time{}
	}
	st := state{User: u, Contacts: cs, Records: recs, Blobs: map[string]bool{}}
	for _, key := range []string{"crash/users/m_crash/photo", "crash/users/m_crash/ugc/1"} {
		st.Blobs[key], err = w.blobs.Exists(ctx, key)
		require.NoError(t, err)
	}
	h, _ := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	_, err = w.store.GetClaim(ctx, "crash", gdpr.ClaimEmail+h.EmailDigest("crash@example.test"))
	st.Claim = err == nil
	return st
}

// TestErasureSurvivesACrashAtEveryStep kills the worker at each of its writes in turn and
// redelivers the job: the final state is always the one of an uninterrupted run, with a
// single audit record (R-ERASE-9).
func TestErasureSurvivesACrashAtEveryStep(t *testing.T) {
	ref := newCrashWorld(t)
	ref.crash.active = true
	require.NoError(t, ref.svc.HandleErasureJob(t.Context(), ref.job))
	writes := ref.crash.n
	want := ref.state(t)
	require.Equal(t, gdpr.UserErased, want.User.Status)
	require.Len(t, want.Records, 1)
	require.Equal(t, 2, want.Records[0].ContactsErased)
	require.Equal(t, 1, want.Records[0].ContactsKept)
	require.Equal(t, 2, want.Records[0].BlobsDeleted)
	require.False(t, want.Claim, "the address is released")
	require.GreaterOrEqual(t, writes, 6, "user, contacts, 2 blobs, claim, audit, done")

	for at := 1; at <= writes; at++ {
		t.Run(fmt.Sprintf("R-ERASE-9_crash_at_write_%d_of_%d", at, writes), func(t *testing.T) {
			w := newCrashWorld(t)
			w.crash.active, w.crash.at = true, at
			require.ErrorIs(t, w.svc.HandleErasureJob(t.Context(), w.job), errCrash)
			w.crash.at = 0 // the process restarts; the queue redelivers
			require.NoError(t, w.svc.HandleErasureJob(t.Context(), w.job))
			require.NoError(t, w.svc.HandleErasureJob(t.Context(), w.job), "a late duplicate is harmless")
			got := w.state(t)
			require.Equal(t, want, got)
		})
	}
}

// TestStaleErasureJobDoesNothing: a job that outlived a restore erases nothing (R-ERASE-5).
func TestStaleErasureJobDoesNothing(t *testing.T) {
	w := newCrashWorld(t)
	w.clock.Set(w.user.Block.DueAt.Add(-time.Hour))
	_, err := w.svc.RestoreMember(t.Context(), "crash", "m_crash")
	require.NoError(t, err)
	w.clock.Set(w.user.Block.DueAt.Add(time.Hour))
	require.NoError(t, w.svc.HandleErasureJob(t.Context(), w.job))
	u, err := w.store.GetUser(t.Context(), "crash", "m_crash")
	require.NoError(t, err)
	require.Equal(t, gdpr.UserActive, u.Status)
	require.Equal(t, "Firstcrash", u.FirstName)
	var job gdpr.ErasureJob
	require.NoError(t, json.Unmarshal(w.job, &job))
	require.Equal(t, gdpr.SubjectMember, job.SubjectKind)
}
