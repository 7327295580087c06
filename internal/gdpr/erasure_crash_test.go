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
	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
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
	*localstore.Store
	crash *crashPoint
}

func (s crashingStore) UpdateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	if err := s.crash.hit(); err != nil {
		return gdpr.User{}, err
	}
	return s.Store.UpdateUser(ctx, u)
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

func (s crashingStore) ReleaseClaims(ctx context.Context, b gdpr.BrandID, claims ...gdpr.Claim) error {
	if err := s.crash.hit(); err != nil {
		return err
	}
	return s.Store.ReleaseClaims(ctx, b, claims...)
}

func (s crashingStore) PutErasures(ctx context.Context, b gdpr.BrandID, rs []gdpr.ErasureRecord) ([]gdpr.ErasureRecord, error) {
	if err := s.crash.hit(); err != nil {
		return nil, err
	}
	return s.Store.PutErasures(ctx, b, rs)
}

type crashingBlobs struct {
	blobstore.Store
	crash *crashPoint
}

func (b crashingBlobs) Delete(ctx context.Context, key string) error {
	if err := b.crash.hit(); err != nil {
		return err
	}
	return b.Store.Delete(ctx, key)
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

type crashWorld struct {
	svc   services
	store crashingStore
	blobs crashingBlobs
	crash *crashPoint
	queue *recordingQueue
	clock *clocktest.Manual
	hash  *gdpr.Hasher
	users []gdpr.User
	jobs  [][]byte
}

// newCrashWorld seeds n blocked members with blobs and contacts, past their grace period.
func newCrashWorld(t *testing.T, n int) *crashWorld {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	base, err := localstore.Open(filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { base.Close() })
	w := &crashWorld{crash: &crashPoint{}, queue: &recordingQueue{}, clock: clocktest.New(time.Time{})}
	w.store = crashingStore{Store: base, crash: w.crash}
	w.blobs = crashingBlobs{Store: blobstore.NewFolder(filepath.Join(dir, "blobs")), crash: w.crash}
	w.svc = newServices(t, w.store, w.queue, w.blobs, w.clock)
	w.hash, err = gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)

	start := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	w.clock.Set(start)
	_, _, err = w.svc.brands.PutBrand(ctx, "crash", gdpr.BrandSettings{Name: "Crash"})
	require.NoError(t, err)
	for i := range n {
		w.seedMember(t, start, i)
	}
	if n > 0 {
		w.clock.Set(w.users[0].Block.DueAt.Add(time.Second))
	}
	return w
}

func memberID(i int) string { return fmt.Sprintf("m_crash_%d", i) }

func (w *crashWorld) blobKeys(i int) []string {
	return []string{fmt.Sprintf("crash/users/%s/photo", memberID(i)), fmt.Sprintf("crash/users/%s/ugc/1", memberID(i))}
}

func memberEmail(i int) string { return fmt.Sprintf("crash%d@example.test", i) }

// seedMember creates member i with two blobs, an address claim and three contacts, one of
// them with a Brand opt-in, and blocks it.
func (w *crashWorld) seedMember(t *testing.T, start time.Time, i int) {
	ctx := t.Context()
	keys := w.blobKeys(i)
	u := gdpr.User{BrandID: "crash", ID: memberID(i), Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
		Status: gdpr.UserActive, CreatedAt: start, ConfirmedAt: start, FirstName: "Firstcrash", LastName: "Lastcrash",
		Email: memberEmail(i), PasswordHash: "$2a$04$x", PhotoKey: keys[0],
		UGC: []gdpr.UGC{{Key: keys[1]}}, Address: gdpr.Address{Street: "1 Crash st", City: "Lille", PostalCode: "59000"}}
	_, err := w.store.CreateUser(ctx, u)
	require.NoError(t, err)
	_, err = w.store.Claim(ctx, gdpr.Claim{BrandID: "crash", Key: gdpr.ClaimEmail + w.hash.EmailDigest(u.Email), Owner: u.ID, CreatedAt: start})
	require.NoError(t, err)
	for _, key := range keys {
		require.NoError(t, w.blobs.Put(ctx, key, []byte("x"), "image/jpeg"))
	}
	for j, opt := range []gdpr.BrandOptIn{gdpr.BrandOptInNone, gdpr.BrandOptInNone, gdpr.BrandOptInBlog} {
		_, err := w.store.CreateContact(ctx, gdpr.Contact{BrandID: "crash", ID: fmt.Sprintf("c_%d_%d", i, j), MemberID: u.ID,
			Email: fmt.Sprintf("c%d.%d@example.test", i, j), FirstName: "Contact", BrandOptIn: gdpr.BrandOptInState{Value: opt, At: start}, CreatedAt: start})
		require.NoError(t, err)
	}
	blocked, err := w.svc.retention.BlockMember(ctx, "crash", u.ID, gdpr.ReasonUnsubscribed)
	require.NoError(t, err)
	require.Len(t, w.queue.msgs, i+1)
	w.users, w.jobs = append(w.users, blocked), append(w.jobs, w.queue.msgs[i].Body)
}

// state is what an erasure leaves, without versions and times that differ between runs.
type state struct {
	Users    []gdpr.User
	Contacts []gdpr.Contact
	Records  []gdpr.ErasureRecord
	Blobs    map[string]bool
	Claims   map[string]bool
}

func (w *crashWorld) state(t *testing.T) state {
	t.Helper()
	ctx := t.Context()
	st := state{Blobs: map[string]bool{}, Claims: map[string]bool{}}
	var ids []string
	for i := range w.users {
		u, err := w.store.GetUser(ctx, "crash", memberID(i))
		require.NoError(t, err)
		u.Version = ""
		if u.Erasure != nil {
			u.Erasure.DoneAt = time.Time{}
		}
		st.Users, ids = append(st.Users, u), append(ids, u.ID)
		for _, key := range w.blobKeys(i) {
			st.Blobs[key], err = w.blobs.Exists(ctx, key)
			require.NoError(t, err)
		}
		_, err = w.store.GetClaim(ctx, "crash", gdpr.ClaimEmail+w.hash.EmailDigest(memberEmail(i)))
		st.Claims[u.ID] = err == nil
	}
	cs, err := w.store.ContactsOfMembers(ctx, "crash", ids)
	require.NoError(t, err)
	for i := range cs {
		cs[i].Version, cs[i].ErasedAt = "", time.Time{}
	}
	recs, err := w.store.ListErasures(ctx, "crash", "", 100)
	require.NoError(t, err)
	for i := range recs {
		recs[i].DoneAt = time.Time{}
	}
	st.Contacts, st.Records = cs, recs
	return st
}

// erasedState checks what an uninterrupted erasure of every member leaves.
func erasedState(t *testing.T, w *crashWorld) state {
	t.Helper()
	st := w.state(t)
	require.Len(t, st.Records, len(w.users), "one audit record per erasure")
	for i, u := range st.Users {
		require.Equal(t, gdpr.UserErased, u.Status)
		require.Equal(t, 2, st.Records[i].ContactsErased)
		require.Equal(t, 1, st.Records[i].ContactsKept)
		require.Equal(t, 2, st.Records[i].BlobsDeleted)
		require.False(t, st.Claims[u.ID], "the address is released")
	}
	return st
}

// TestErasureSurvivesACrashAtEveryStep kills the worker at each of its writes in turn and
// redelivers the job: the final state is always the one of an uninterrupted run, with a
// single audit record (R-ERASE-9).
func TestErasureSurvivesACrashAtEveryStep(t *testing.T) {
	ref := newCrashWorld(t, 1)
	ref.crash.active = true
	require.NoError(t, ref.svc.erasure.HandleErasureJob(t.Context(), ref.jobs[0]))
	writes := ref.crash.n
	want := erasedState(t, ref)
	require.GreaterOrEqual(t, writes, 6, "user, contacts, 2 blobs, claim, audit, done")

	for at := 1; at <= writes; at++ {
		t.Run(fmt.Sprintf("R-ERASE-9_crash_at_write_%d_of_%d", at, writes), func(t *testing.T) {
			w := newCrashWorld(t, 1)
			w.crash.active, w.crash.at = true, at
			require.ErrorIs(t, w.svc.erasure.HandleErasureJob(t.Context(), w.jobs[0]), errCrash)
			w.crash.at = 0 // the process restarts; the queue redelivers
			require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), w.jobs[0]))
			require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), w.jobs[0]), "a late duplicate is harmless")
			require.Equal(t, want, w.state(t))
		})
	}
}

// TestErasureBatchSurvivesACrashAtEveryStep does the same to a batch of members erased
// together: whichever shared write the crash hits, redelivering the batch — or its jobs one
// by one — ends in the state of an uninterrupted run, one audit record per member.
func TestErasureBatchSurvivesACrashAtEveryStep(t *testing.T) {
	const members = 3
	ref := newCrashWorld(t, members)
	ref.crash.active = true
	requireAllNil(t, ref.svc.erasure.HandleErasureJobs(t.Context(), ref.jobs))
	writes := ref.crash.n
	want := erasedState(t, ref)
	require.Less(t, writes, 6*members, "the batch shares its store writes")

	for at := 1; at <= writes; at++ {
		for _, redeliver := range []string{"as_a_batch", "one_by_one"} {
			t.Run(fmt.Sprintf("R-ERASE-9_crash_at_write_%d_of_%d_redelivered_%s", at, writes, redeliver), func(t *testing.T) {
				w := newCrashWorld(t, members)
				w.crash.active, w.crash.at = true, at
				for _, err := range w.svc.erasure.HandleErasureJobs(t.Context(), w.jobs) {
					require.ErrorIs(t, err, errCrash, "every job of the batch is redelivered")
				}
				w.crash.at = 0
				if redeliver == "as_a_batch" {
					requireAllNil(t, w.svc.erasure.HandleErasureJobs(t.Context(), w.jobs))
				} else {
					for _, job := range w.jobs {
						require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), job))
					}
				}
				requireAllNil(t, w.svc.erasure.HandleErasureJobs(t.Context(), w.jobs), "late duplicates are harmless")
				require.Equal(t, want, w.state(t))
			})
		}
	}
}

func requireAllNil(t *testing.T, errs []error, msgAndArgs ...any) {
	t.Helper()
	for i, err := range errs {
		require.NoError(t, err, append([]any{"job %d"}, i, msgAndArgs)...)
	}
}

// TestErasureBatchOutcomesPerJob: a batch answers for each job. A malformed job fails alone,
// a job repeated in the batch is harmless, and a stale one does nothing, while the others
// are erased.
func TestErasureBatchOutcomesPerJob(t *testing.T) {
	w := newCrashWorld(t, 3)
	ctx := t.Context()
	w.clock.Set(w.users[0].Block.DueAt.Add(-time.Hour))
	_, err := w.svc.retention.RestoreMember(ctx, "crash", memberID(1))
	require.NoError(t, err)
	w.clock.Set(w.users[0].Block.DueAt.Add(time.Second))

	errs := w.svc.erasure.HandleErasureJobs(ctx, [][]byte{w.jobs[0], []byte(`{"brandId":`), w.jobs[1], w.jobs[2], w.jobs[0]})
	require.Len(t, errs, 5)
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(errs[1]), "the malformed job fails")
	for _, i := range []int{0, 2, 3, 4} {
		require.NoError(t, errs[i])
	}
	st := w.state(t)
	require.Equal(t, gdpr.UserErased, st.Users[0].Status)
	require.Equal(t, gdpr.UserActive, st.Users[1].Status, "restored: its stale job does nothing")
	require.Equal(t, "Firstcrash", st.Users[1].FirstName)
	require.Equal(t, gdpr.UserErased, st.Users[2].Status)
	require.Len(t, st.Records, 2, "one record each, the repeated job included")
}

// TestStaleErasureJobDoesNothing: a job that outlived a restore erases nothing (R-ERASE-5).
func TestStaleErasureJobDoesNothing(t *testing.T) {
	w := newCrashWorld(t, 1)
	w.clock.Set(w.users[0].Block.DueAt.Add(-time.Hour))
	_, err := w.svc.retention.RestoreMember(t.Context(), "crash", memberID(0))
	require.NoError(t, err)
	w.clock.Set(w.users[0].Block.DueAt.Add(time.Hour))
	require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), w.jobs[0]))
	u, err := w.store.GetUser(t.Context(), "crash", memberID(0))
	require.NoError(t, err)
	require.Equal(t, gdpr.UserActive, u.Status)
	require.Equal(t, "Firstcrash", u.FirstName)
	var job gdpr.ErasureJob
	require.NoError(t, json.Unmarshal(w.jobs[0], &job))
	require.Equal(t, gdpr.SubjectMember, job.SubjectKind)
}

func (s crashingStore) UpdateContact(ctx context.Context, c gdpr.Contact) (gdpr.Contact, error) {
	if err := s.crash.hit(); err != nil {
		return gdpr.Contact{}, err
	}
	return s.Store.UpdateContact(ctx, c)
}

// TestContactErasureSurvivesACrashAtEveryStep does to a contact's own erasure (R-RET-4, by
// the erasure procedure every subject shares) what TestErasureSurvivesACrashAtEveryStep does
// to a member's: killed at each write and redelivered, it ends as an uninterrupted run does,
// the contact erased, the member's claim on its address released, one audit record.
func TestContactErasureSurvivesACrashAtEveryStep(t *testing.T) {
	type contactState struct {
		Contact gdpr.Contact
		Records []gdpr.ErasureRecord
		Claimed bool
	}
	setup := func(t *testing.T) (*crashWorld, []byte, func() contactState) {
		w := newCrashWorld(t, 0)
		ctx := t.Context()
		start := w.clock.Now()
		_, err := w.store.CreateUser(ctx, gdpr.User{BrandID: "crash", ID: "m_keeper", Kind: gdpr.SubjectMember,
			Status: gdpr.UserActive, CreatedAt: start})
		require.NoError(t, err)
		digest := w.hash.EmailDigest("never.invited@example.test")
		claimKey := "contact:m_keeper:" + digest
		_, err = w.store.Claim(ctx, gdpr.Claim{BrandID: "crash", Key: claimKey, Owner: "c_new", CreatedAt: start})
		require.NoError(t, err)
		_, err = w.store.CreateContact(ctx, gdpr.Contact{BrandID: "crash", ID: "c_new", MemberID: "m_keeper",
			Email: "never.invited@example.test", FirstName: "Nina", CreatedAt: start,
			MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInNew, At: start}})
		require.NoError(t, err)
		w.clock.Set(start.Add(31 * 24 * time.Hour))
		job, err := json.Marshal(gdpr.ErasureJob{BrandID: "crash", SubjectKind: gdpr.SubjectContact, SubjectID: "c_new",
			Rule: gdpr.RuleNewContact, DueAt: start.Add(30 * 24 * time.Hour)})
		require.NoError(t, err)
		return w, job, func() contactState {
			c, err := w.store.GetContact(ctx, "crash", "c_new")
			require.NoError(t, err)
			c.Version = ""
			recs, err := w.store.ListErasures(ctx, "crash", "", 10)
			require.NoError(t, err)
			_, err = w.store.GetClaim(ctx, "crash", claimKey)
			return contactState{Contact: c, Records: recs, Claimed: err == nil}
		}
	}
	ref, job, state := setup(t)
	ref.crash.active = true
	require.NoError(t, ref.svc.erasure.HandleErasureJob(t.Context(), job))
	writes := ref.crash.n
	want := state()
	require.Equal(t, 3, writes, "contact, claim, audit")
	require.True(t, want.Contact.Erased())
	require.Empty(t, want.Contact.FirstName)
	require.Len(t, want.Records, 1)
	require.Equal(t, gdpr.RuleNewContact, want.Records[0].Rule)
	require.Equal(t, want.Contact.ErasedBy, want.Records[0].ID)
	require.False(t, want.Claimed, "the address may come back as a new contact")

	for at := 1; at <= writes; at++ {
		t.Run(fmt.Sprintf("R-ERASE-9_crash_at_write_%d_of_%d", at, writes), func(t *testing.T) {
			w, job, state := setup(t)
			w.crash.active, w.crash.at = true, at
			require.ErrorIs(t, w.svc.erasure.HandleErasureJob(t.Context(), job), errCrash)
			w.crash.at = 0
			require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), job))
			require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), job), "a late duplicate is harmless")
			require.Equal(t, want, state())
		})
	}
}
