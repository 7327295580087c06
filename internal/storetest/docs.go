package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// kind adapts users and contacts to the checks they share: both are versioned documents with
// paging and a due index, and must behave alike.
type kind[T any] struct {
	name   string
	fake   func(gdpr.BrandID) T
	fields func(*T) fields
	create func(Store, context.Context, T) (T, error)
	get    func(Store, context.Context, gdpr.BrandID, string) (T, error)
	update func(Store, context.Context, T) (T, error)
	batch  func(Store, context.Context, gdpr.BrandID, []T) ([]T, error)
	list   func(Store, context.Context, gdpr.BrandID, string, int) ([]T, error)
	due    func(Store, context.Context, gdpr.BrandID, time.Time, gdpr.DueCursor, int) ([]T, error)
}

// fields points at the fields the shared checks read and set.
type fields struct {
	brand        *gdpr.BrandID
	id, version  *string
	nextReviewAt *time.Time
	text         *string // any free-text field, to tell writes apart
}

var users = kind[gdpr.User]{
	name: "user",
	fake: NewUser,
	fields: func(u *gdpr.User) fields {
		return fields{brand: &u.BrandID, id: &u.ID, version: &u.Version, nextReviewAt: &u.NextReviewAt, text: &u.Alias}
	},
	create: Store.CreateUser,
	get:    Store.GetUser,
	update: Store.UpdateUser,
	batch:  Store.UpdateUsers,
	list:   Store.ListUsers,
	due:    Store.DueUsers,
}

var contacts = kind[gdpr.Contact]{
	name: "contact",
	fake: func(b gdpr.BrandID) gdpr.Contact { return NewContact(b, "usr-member") },
	fields: func(c *gdpr.Contact) fields {
		return fields{brand: &c.BrandID, id: &c.ID, version: &c.Version, nextReviewAt: &c.NextReviewAt, text: &c.Notes}
	},
	create: Store.CreateContact,
	get:    Store.GetContact,
	update: Store.UpdateContact,
	batch:  Store.UpdateContacts,
	list:   Store.ListContacts,
	due:    Store.DueContacts,
}

func (k kind[T]) id(v T) string      { return *k.fields(&v).id }
func (k kind[T]) version(v T) string { return *k.fields(&v).version }

// mustCreate stores a fake of brand, changed by edits, and returns it as stored.
func (k kind[T]) mustCreate(t *testing.T, s Store, b gdpr.BrandID, edits ...func(fields)) T {
	t.Helper()
	v := k.fake(b)
	for _, e := range edits {
		e(k.fields(&v))
	}
	got, err := k.create(s, t.Context(), v)
	require.NoError(t, err)
	return got
}

func (k kind[T]) ids(vs []T) []string {
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = k.id(v)
	}
	return ids
}

func docTests[T any](k kind[T]) []test {
	return []test{
		{"CRUD", k.testCRUD},
		{"round_trip_every_field", k.testRoundTrip},
		{"not_found", k.testNotFound},
		{"create_existing_conflicts", k.testCreateExisting},
		{staleName(k.name), k.testStale},
		{"update_without_issued_version_conflicts", k.testMadeUpVersion},
		{"concurrent_updates_one_wins", k.testConcurrentUpdates},
		{"list_pages_in_id_order", k.testPaging},
		{"batch_update_applies_all_in_order", k.testBatch},
		{"batch_update_stale_version_fails_the_chunk", k.testBatchStale},
		{"batch_update_missing_fails_the_chunk", k.testBatchMissing},
		{"batch_update_in_chunks_of_MaxBatch", k.testBatchChunks},
		{"batch_update_of_other_brand_refused_R-TEN-1", k.testBatchOtherBrand},
	}
}

// staleName cites the rule a stale write endangers: an SSO update racing an erasure must not
// resurrect erased data (R-ERASE-5).
func staleName(kind string) string {
	if kind == "user" {
		return "stale_version_conflict_R-ERASE-5"
	}
	return "stale_version_conflict"
}

func (k kind[T]) testCRUD(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	v := k.fake(b)
	created, err := k.create(s, ctx, v)
	require.NoError(t, err)
	require.NotEmpty(t, k.version(created), "create sets the version")
	*k.fields(&v).version = k.version(created)
	RequireSame(t, v, created)

	got, err := k.get(s, ctx, b, k.id(v))
	require.NoError(t, err)
	RequireSame(t, created, got)

	*k.fields(&got).text = "changed"
	updated, err := k.update(s, ctx, got)
	require.NoError(t, err)
	require.NotEqual(t, k.version(got), k.version(updated), "update sets a new version")
	require.Equal(t, "changed", *k.fields(&updated).text)

	again, err := k.get(s, ctx, b, k.id(v))
	require.NoError(t, err)
	RequireSame(t, updated, again)

	*k.fields(&again).text = "changed twice"
	_, err = k.update(s, ctx, again)
	require.NoError(t, err, "the version an update returns is the one to update with next")
}

func (k kind[T]) testRoundTrip(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	v := k.fake(b)
	requireFilled(t, v, "Version")
	created, err := k.create(s, ctx, v)
	require.NoError(t, err)
	got, err := k.get(s, ctx, b, k.id(v))
	require.NoError(t, err)
	*k.fields(&v).version = k.version(got)
	RequireSame(t, v, got)

	listed, err := k.list(s, ctx, b, "", 10)
	require.NoError(t, err)
	require.Len(t, listed, 1)
	RequireSame(t, v, listed[0], "list returns whole documents")

	updated, err := k.update(s, ctx, created)
	require.NoError(t, err)
	*k.fields(&v).version = k.version(updated)
	RequireSame(t, v, updated)
}

func (k kind[T]) testNotFound(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	v := k.fake(b)
	_, err := k.get(s, ctx, b, k.id(v))
	require.ErrorIs(t, err, gdpr.ErrNotFound)

	existing := k.mustCreate(t, s, b)
	*k.fields(&v).version = k.version(existing) // a version the store did issue, for another id
	_, err = k.update(s, ctx, v)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	_, err = k.get(s, ctx, b, k.id(v))
	require.ErrorIs(t, err, gdpr.ErrNotFound, "a failed update creates nothing")
}

func (k kind[T]) testCreateExisting(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	first := k.mustCreate(t, s, b, func(f fields) { *f.text = "first" })
	again := first
	*k.fields(&again).text = "second"
	_, err := k.create(s, ctx, again)
	require.ErrorIs(t, err, gdpr.ErrConflict)

	got, err := k.get(s, ctx, b, k.id(first))
	require.NoError(t, err)
	RequireSame(t, first, got, "a refused create changes nothing")
}

func (k kind[T]) testStale(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	read := k.mustCreate(t, s, b)
	mine, theirs := read, read

	*k.fields(&mine).text = "erased"
	won, err := k.update(s, ctx, mine)
	require.NoError(t, err)

	*k.fields(&theirs).text = "resurrected"
	_, err = k.update(s, ctx, theirs)
	require.ErrorIs(t, err, gdpr.ErrConflict, "an update from a stale read must fail")

	got, err := k.get(s, ctx, b, k.id(read))
	require.NoError(t, err)
	RequireSame(t, won, got)

	_, err = k.update(s, ctx, won)
	require.NoError(t, err)
	_, err = k.update(s, ctx, won)
	require.ErrorIs(t, err, gdpr.ErrConflict, "a version is good for one update only")
}

func (k kind[T]) testMadeUpVersion(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	v := k.mustCreate(t, s, b)
	for _, version := range []string{"", "not-a-version", "999999"} {
		w := v
		*k.fields(&w).version = version
		*k.fields(&w).text = "overwritten"
		_, err := k.update(s, ctx, w)
		require.ErrorIs(t, err, gdpr.ErrConflict, "version %q", version)
	}
	got, err := k.get(s, ctx, b, k.id(v))
	require.NoError(t, err)
	RequireSame(t, v, got)
}

// testConcurrentUpdates races writers holding the same version: a store that checks the
// version and writes in two steps lets several win.
func (k kind[T]) testConcurrentUpdates(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	v := k.mustCreate(t, s, b)
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			w := v
			*k.fields(&w).text = fmt.Sprintf("writer %d", i)
			_, errs[i] = k.update(s, ctx, w)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "two updates won with the same version")
			won = i
			continue
		}
		require.ErrorIs(t, err, gdpr.ErrConflict)
	}
	require.NotEqual(t, -1, won, "one update must win")
	got, err := k.get(s, ctx, b, k.id(v))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("writer %d", won), *k.fields(&got).text)
}

func (k kind[T]) testPaging(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for range 5 {
		want = append(want, k.id(k.mustCreate(t, s, b)))
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		vs, err := k.list(s, ctx, b, after, 2)
		require.NoError(t, err)
		require.LessOrEqual(t, len(vs), 2, "a page holds at most limit documents")
		if len(vs) == 0 {
			break
		}
		require.Less(t, page, 3, "5 documents take 3 pages of 2")
		got = append(got, k.ids(vs)...)
		after = got[len(got)-1]
	}
	require.Equal(t, want, got, "pages walk every document once, in id order")

	vs, err := k.list(s, ctx, b, want[1], 100)
	require.NoError(t, err)
	require.Equal(t, want[2:], k.ids(vs), "after is exclusive")

	for _, limit := range []int{0, -1} {
		vs, err = k.list(s, ctx, b, "", limit)
		require.NoError(t, err)
		require.Empty(t, vs, "a limit below 1 returns nothing, never everything")
		for _, after := range []gdpr.DueCursor{{}, {At: now.AddDate(-100, 0, 0), ID: "a"}} {
			vs, err = k.due(s, ctx, b, now.AddDate(100, 0, 0), after, limit)
			require.NoError(t, err)
			require.Empty(t, vs, "a limit below 1 returns nothing, never everything")
		}
	}
}

// createMany stores n fakes of brand, each with text set to its index.
func (k kind[T]) createMany(t *testing.T, s Store, b gdpr.BrandID, n int) []T {
	t.Helper()
	vs := make([]T, n)
	for i := range vs {
		vs[i] = k.mustCreate(t, s, b, func(f fields) { *f.text = strconv.Itoa(i) })
	}
	return vs
}

// requireTexts asserts the stored text of each of vs.
func (k kind[T]) requireTexts(t *testing.T, s Store, vs []T, text func(i int) string, msg string) {
	t.Helper()
	for i, v := range vs {
		got, err := k.get(s, t.Context(), *k.fields(&v).brand, k.id(v))
		require.NoError(t, err)
		require.Equal(t, text(i), *k.fields(&got).text, "%s (document %d)", msg, i)
	}
}

func (k kind[T]) testBatch(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	vs := k.createMany(t, s, b, 3)
	for i := range vs {
		*k.fields(&vs[i]).text = fmt.Sprintf("batch %d", i)
	}
	got, err := k.batch(s, ctx, b, vs)
	require.NoError(t, err)
	require.Equal(t, k.ids(vs), k.ids(got), "the documents come back in order")
	for i := range vs {
		require.NotEqual(t, k.version(vs[i]), k.version(got[i]), "each gets a new version")
		stored, err := k.get(s, ctx, b, k.id(vs[i]))
		require.NoError(t, err)
		RequireSame(t, got[i], stored)
	}

	none, err := k.batch(s, ctx, b, nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

func (k kind[T]) testBatchStale(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	vs := k.createMany(t, s, b, 3)
	raced := vs[1]
	*k.fields(&raced).text = "raced"
	_, err := k.update(s, ctx, raced)
	require.NoError(t, err)

	for i := range vs {
		*k.fields(&vs[i]).text = "batch"
	}
	_, err = k.batch(s, ctx, b, vs)
	require.ErrorIs(t, err, gdpr.ErrConflict)
	k.requireTexts(t, s, vs, func(i int) string { return map[int]string{0: "0", 1: "raced", 2: "2"}[i] },
		"a chunk with a stale version applies nothing")
}

func (k kind[T]) testBatchMissing(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	vs := k.createMany(t, s, b, 2)
	missing := k.fake(b)
	*k.fields(&missing).version = k.version(vs[0])
	for i := range vs {
		*k.fields(&vs[i]).text = "batch"
	}
	_, err := k.batch(s, ctx, b, []T{vs[0], missing, vs[1]})
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	k.requireTexts(t, s, vs, strconv.Itoa, "a chunk with a missing document applies nothing")
	_, err = k.get(s, ctx, b, k.id(missing))
	require.ErrorIs(t, err, gdpr.ErrNotFound, "a batch update creates nothing")
}

// testBatchChunks proves batches longer than gdpr.MaxBatch work, and apply chunk by chunk.
func (k kind[T]) testBatchChunks(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	vs := k.createMany(t, s, b, gdpr.MaxBatch+1)
	for i := range vs {
		*k.fields(&vs[i]).text = "first"
	}
	vs, err := k.batch(s, ctx, b, vs)
	require.NoError(t, err)
	require.Len(t, vs, gdpr.MaxBatch+1)
	k.requireTexts(t, s, vs, func(int) string { return "first" }, "every chunk applies")

	last := vs[gdpr.MaxBatch]
	*k.fields(&last).text = "raced"
	_, err = k.update(s, ctx, last)
	require.NoError(t, err)
	for i := range vs {
		*k.fields(&vs[i]).text = "second"
	}
	_, err = k.batch(s, ctx, b, vs)
	require.ErrorIs(t, err, gdpr.ErrConflict)
	k.requireTexts(t, s, vs, func(i int) string {
		if i < gdpr.MaxBatch {
			return "second"
		}
		return "raced"
	}, "chunks before the failing one stay applied")
}

func (k kind[T]) testBatchOtherBrand(t *testing.T, s Store) {
	ctx, a, b := t.Context(), NewBrandID(), NewBrandID()
	mine, theirs := k.createMany(t, s, a, 1), k.createMany(t, s, b, 1)
	batch := []T{mine[0], theirs[0]}
	for i := range batch {
		*k.fields(&batch[i]).text = "overwritten"
	}
	_, err := k.batch(s, ctx, a, batch)
	require.Error(t, err, "a batch of brand a cannot write a document of brand b")
	k.requireTexts(t, s, mine, strconv.Itoa, "a refused batch applies nothing")
	k.requireTexts(t, s, theirs, strconv.Itoa, "brand b is untouched")
}

func dueTests[T any](k kind[T]) []test {
	return []test{
		{fmt.Sprintf("only_due_%ss_earliest_first", k.name), k.testDueOrder},
		{fmt.Sprintf("%s_zero_NextReviewAt_never_due", k.name), k.testDueZero},
		{fmt.Sprintf("%s_limit", k.name), k.testDueLimit},
		{fmt.Sprintf("%s_update_moves_in_and_out_of_due", k.name), k.testDueUpdate},
		{fmt.Sprintf("%s_pages_visit_each_due_once_in_order", k.name), k.testDuePaging},
		{fmt.Sprintf("%s_pages_through_ties_in_id_order", k.name), k.testDueTies},
		{fmt.Sprintf("%s_cursor_is_exclusive", k.name), k.testDueCursor},
	}
}

// now is where due checks stand; whole microseconds, so the boundary is exact in every store.
var now = time.Date(2032, 1, 2, 3, 4, 5, 6000, time.UTC)

func reviewAt(at time.Time) func(fields) { return func(f fields) { *f.nextReviewAt = at } }

func (k kind[T]) testDueOrder(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	atNow := k.mustCreate(t, s, b, reviewAt(now))
	k.mustCreate(t, s, b, reviewAt(now.Add(time.Microsecond)))
	earliest := k.mustCreate(t, s, b, reviewAt(now.AddDate(-1, 0, 0)))
	k.mustCreate(t, s, b, reviewAt(now.AddDate(1, 0, 0)))
	middle := k.mustCreate(t, s, b, reviewAt(now.Add(-time.Hour)))

	due, err := k.due(s, ctx, b, now, gdpr.DueCursor{}, 100)
	require.NoError(t, err)
	require.Equal(t, k.ids([]T{earliest, middle, atNow}), k.ids(due), "due means NextReviewAt not after now, earliest first")
	RequireSame(t, earliest, due[0], "due returns whole documents")
}

func (k kind[T]) testDueZero(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	k.mustCreate(t, s, b, reviewAt(time.Time{}))
	for _, after := range []gdpr.DueCursor{{}, {At: time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)}, {At: now.AddDate(-100, 0, 0)}} {
		due, err := k.due(s, ctx, b, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), after, 100)
		require.NoError(t, err)
		require.Empty(t, due, "a zero NextReviewAt is never due (after %v)", after)
	}
}

func (k kind[T]) testDueLimit(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for i := range 5 {
		want = append(want, k.id(k.mustCreate(t, s, b, reviewAt(now.Add(time.Duration(i-10)*time.Minute)))))
	}
	due, err := k.due(s, ctx, b, now, gdpr.DueCursor{}, 3)
	require.NoError(t, err)
	require.Equal(t, want[:3], k.ids(due), "limit keeps the earliest")
	due, err = k.due(s, ctx, b, now, k.cursor(due[2]), 3)
	require.NoError(t, err)
	require.Equal(t, want[3:], k.ids(due), "the next page starts after the last document read")
}

func (k kind[T]) testDueUpdate(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	v := k.mustCreate(t, s, b, reviewAt(now.AddDate(1, 0, 0)))
	dueIDs := func() []string {
		due, err := k.due(s, ctx, b, now, gdpr.DueCursor{}, 100)
		require.NoError(t, err)
		return k.ids(due)
	}
	require.Empty(t, dueIDs())

	*k.fields(&v).nextReviewAt = now.Add(-time.Minute)
	v, err := k.update(s, ctx, v)
	require.NoError(t, err)
	require.Equal(t, []string{k.id(v)}, dueIDs(), "an update that makes it due shows in the due index")

	*k.fields(&v).nextReviewAt = time.Time{}
	_, err = k.update(s, ctx, v)
	require.NoError(t, err)
	require.Empty(t, dueIDs(), "an update that clears NextReviewAt leaves the due index")
}

// cursor is where a page that ended with v resumes: its (NextReviewAt, ID).
func (k kind[T]) cursor(v T) gdpr.DueCursor {
	f := k.fields(&v)
	return gdpr.DueCursor{At: *f.nextReviewAt, ID: *f.id}
}

// dueOrder returns the ids of vs in due order: by NextReviewAt (to the microsecond, all a
// store need keep), then by id.
func (k kind[T]) dueOrder(vs []T) []string {
	vs = slices.Clone(vs)
	slices.SortFunc(vs, func(a, b T) int {
		fa, fb := k.fields(&a), k.fields(&b)
		return cmp.Or(fa.nextReviewAt.Truncate(time.Microsecond).Compare(fb.nextReviewAt.Truncate(time.Microsecond)),
			cmp.Compare(*fa.id, *fb.id))
	})
	return k.ids(vs)
}

// pageDue walks the due index of brand b as the sweep does: pages of limit, each resuming
// after the last document of the one before, until a page comes back short. It asserts the
// page sizes: every page but the last is full, so a short page reliably means the end.
func (k kind[T]) pageDue(t *testing.T, s Store, b gdpr.BrandID, at time.Time, limit, want int) []string {
	t.Helper()
	var ids []string
	var after gdpr.DueCursor
	for page := 0; ; page++ {
		require.LessOrEqual(t, page, want/limit, "%d due documents take %d pages of %d", want, want/limit+1, limit)
		vs, err := k.due(s, t.Context(), b, at, after, limit)
		require.NoError(t, err)
		ids = append(ids, k.ids(vs)...)
		if len(vs) < limit {
			require.Len(t, vs, want%limit, "only the last page is short (page %d)", page)
			return ids
		}
		require.Len(t, vs, limit, "page %d", page)
		after = k.cursor(vs[len(vs)-1])
	}
}

// testDuePaging walks 250 due documents in pages of 100: each comes once, in (NextReviewAt,
// ID) order, though they were created in another order and many share a time; documents not
// yet due, never due or of another brand — with the same ids and times — never show.
func (k kind[T]) testDuePaging(t *testing.T, s Store) {
	b, other := NewBrandID(), NewBrandID()
	var due []T
	for i := range 250 {
		at := now.Add(-time.Duration((i*37)%101) * time.Second) // 101 distinct times, shuffled
		v := k.mustCreate(t, s, b, reviewAt(at))
		due = append(due, v)
		switch {
		case i%25 == 0:
			k.mustCreate(t, s, b, reviewAt(now.Add(time.Microsecond)))
		case i%25 == 1:
			k.mustCreate(t, s, b, reviewAt(now.AddDate(0, 0, 1)))
		case i%25 == 2:
			k.mustCreate(t, s, b, reviewAt(time.Time{}))
		case i%5 == 3:
			k.mustCreate(t, s, other, reviewAt(at), func(f fields) { *f.id = k.id(v) })
		}
	}
	k.mustCreate(t, s, other, reviewAt(now.Add(-time.Hour)))
	want := k.dueOrder(due)
	require.Equal(t, want, k.pageDue(t, s, b, now, 100, len(due)), "each due document once, in (NextReviewAt, ID) order")
	require.Len(t, k.pageDue(t, s, other, now, 100, 51), 51, "the other brand pages through its own only")
}

// testDueTies pages with limit 7 through 30 documents due at the same instant, between
// earlier and later ones: the id breaks the tie, so none is skipped or read twice even where
// a page ends inside the tie.
func (k kind[T]) testDueTies(t *testing.T, s Store) {
	b := NewBrandID()
	tie := now.Add(-time.Minute)
	var due []T
	for _, at := range []time.Time{tie.Add(-time.Microsecond), tie.Add(-time.Hour), tie.Add(time.Microsecond), now} {
		due = append(due, k.mustCreate(t, s, b, reviewAt(at)))
	}
	var ties []T
	for i := range 30 {
		id := fmt.Sprintf("tie-%02d", (i*7)%30) // created out of id order
		ties = append(ties, k.mustCreate(t, s, b, reviewAt(tie), func(f fields) { *f.id = id }))
	}
	got := k.pageDue(t, s, b, now, 7, len(due)+len(ties))
	want := k.dueOrder(append(due, ties...))
	require.Equal(t, want, got, "each once: by time, then by id within the tie")
	require.Equal(t, k.dueOrder(ties), got[2:32], "the tie in id order")
}

// testDueCursor: a page starts strictly after the cursor, which need not be a document's own.
func (k kind[T]) testDueCursor(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	t1, t2 := now.Add(-time.Hour), now.Add(-time.Minute)
	named := func(id string) func(fields) { return func(f fields) { *f.id = id } }
	a := k.mustCreate(t, s, b, reviewAt(t1), named("a"))
	bb := k.mustCreate(t, s, b, reviewAt(t1), named("b"))
	c := k.mustCreate(t, s, b, reviewAt(t1), named("c"))
	d := k.mustCreate(t, s, b, reviewAt(t2), named("d"))
	k.mustCreate(t, s, b, reviewAt(now.Add(time.Microsecond)), named("e"))
	k.mustCreate(t, s, b, reviewAt(time.Time{}), named("f"))
	all := []T{a, bb, c, d}

	for _, tc := range []struct {
		after gdpr.DueCursor
		want  []T
		why   string
	}{
		{gdpr.DueCursor{}, all, "the zero cursor starts at the beginning"},
		{k.cursor(a), all[1:], "the cursor's own document is excluded"},
		{k.cursor(bb), all[2:], "the cursor's own document is excluded"},
		{k.cursor(d), nil, "after the last due document, nothing"},
		{gdpr.DueCursor{At: t1, ID: "bb"}, all[2:], "an id between two documents"},
		{gdpr.DueCursor{At: t1}, all, "an empty id at a document's time"},
		{gdpr.DueCursor{At: t1, ID: "z"}, all[3:], "an id after every tie moves to the next time"},
		{gdpr.DueCursor{At: t1.Add(-time.Microsecond), ID: "z"}, all, "an earlier time, whatever the id"},
		{gdpr.DueCursor{At: t1.Add(time.Microsecond)}, all[3:], "a time between two documents"},
		{gdpr.DueCursor{At: now, ID: ""}, nil, "not-yet-due documents stay out after the cursor"},
		{gdpr.DueCursor{At: now.AddDate(-100, 0, 0), ID: "z"}, all, "a cursor long before"},
	} {
		got, err := k.due(s, ctx, b, now, tc.after, 100)
		require.NoError(t, err)
		require.Equal(t, k.ids(tc.want), k.ids(got), "%s (after %v)", tc.why, tc.after)
	}
	got, err := k.due(s, ctx, b, now, k.cursor(a), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	RequireSame(t, bb, got[0], "due returns whole documents after a cursor too")
}

var usersOnlyTests = []test{
	{"returned_values_are_copies", testUserCopies},
	{"GetUsers_reads_many_and_leaves_out_missing", testGetUsers},
	{"UsersByIdPExternalID_finds_the_holders_exactly", testUsersByIdP},
}

// testUsersByIdP: the index follows every write — create, update, batch update — matches
// the id exactly (caseExact), keeps brands apart and honours the limit.
func testUsersByIdP(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	find := func(brand gdpr.BrandID, id string, limit int) []string {
		t.Helper()
		got, err := s.UsersByIdPExternalID(ctx, brand, id, limit)
		require.NoError(t, err)
		ids := []string{}
		for _, u := range got {
			require.Equal(t, id, u.IdPExternalID)
			require.NotEmpty(t, u.Version, "whole documents with their versions")
			ids = append(ids, u.ID)
		}
		return ids
	}
	u1, u2, u3 := NewUser(b), NewUser(b), NewUser(b)
	u1.IdPExternalID, u2.IdPExternalID, u3.IdPExternalID = "Obj-A", "Obj-A", "Obj-B"
	for _, u := range []gdpr.User{u1, u2, u3} {
		_, err := s.CreateUser(ctx, u)
		require.NoError(t, err)
	}
	other := NewUser(NewBrandID())
	other.IdPExternalID = "Obj-A"
	_, err := s.CreateUser(ctx, other)
	require.NoError(t, err)

	want := []string{u1.ID, u2.ID}
	slices.Sort(want)
	require.Equal(t, want, find(b, "Obj-A", 10), "in id order; another brand's user left out (R-TEN-1)")
	require.Equal(t, want[:1], find(b, "Obj-A", 1), "the limit")
	require.Empty(t, find(b, "obj-a", 10), "caseExact")
	require.Empty(t, find(b, "Obj", 10), "equality, not a prefix")
	require.Empty(t, find(b, "", 10), "an empty id finds none")

	got, err := s.GetUser(ctx, b, u1.ID)
	require.NoError(t, err)
	got.IdPExternalID = "Obj-C"
	_, err = s.UpdateUser(ctx, got)
	require.NoError(t, err)
	require.Equal(t, []string{u2.ID}, find(b, "Obj-A", 10), "an update leaves the old id")
	require.Equal(t, []string{u1.ID}, find(b, "Obj-C", 10), "and is found by the new one")

	got, err = s.GetUser(ctx, b, u3.ID)
	require.NoError(t, err)
	got.IdPExternalID = ""
	_, err = s.UpdateUsers(ctx, b, []gdpr.User{got})
	require.NoError(t, err)
	require.Empty(t, find(b, "Obj-B", 10), "a batch update too")
}

func testGetUsers(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []gdpr.User
	for range 3 {
		want = append(want, users.mustCreate(t, s, b))
	}
	other := users.mustCreate(t, s, NewBrandID())
	got, err := s.GetUsers(ctx, b, []string{want[2].ID, "usr-missing", want[0].ID, other.ID, want[1].ID})
	require.NoError(t, err)
	slices.SortFunc(got, func(x, y gdpr.User) int { return strings.Compare(x.ID, y.ID) })
	slices.SortFunc(want, func(x, y gdpr.User) int { return strings.Compare(x.ID, y.ID) })
	require.Len(t, got, 3, "a missing id and another brand's user are left out (R-TEN-1)")
	for i := range want {
		RequireSame(t, want[i], got[i], "whole documents with their versions")
	}
	none, err := s.GetUsers(ctx, b, nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

// testUserCopies guards in-memory stores that hand out their own slices and pointers.
func testUserCopies(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	u := NewUser(b)
	wantKey := u.UGC[0].Key
	created, err := s.CreateUser(ctx, u)
	require.NoError(t, err)
	created.UGC[0].Key = "mutated"
	created.Terms.Version = "mutated"
	u.UGC[0].Key = "mutated too"

	got, err := s.GetUser(ctx, b, u.ID)
	require.NoError(t, err)
	got.UGC[0].Key = "mutated"
	got.Terms.Version = "mutated"

	again, err := s.GetUser(ctx, b, u.ID)
	require.NoError(t, err)
	require.Equal(t, wantKey, again.UGC[0].Key)
	require.Equal(t, "v3", again.Terms.Version)
}

var contactsOnlyTests = []test{
	{"ContactsOfMembers_one_member_in_id_order", testContactsOfMember},
	{"ContactsOfMembers_many_by_member_then_id", testContactsOfMembers},
}

func testContactsOfMembers(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	byMember := map[string][]string{}
	for i := range 9 {
		member := []string{"usr-c", "usr-a", "usr-b"}[i%3]
		c, err := s.CreateContact(ctx, NewContact(b, member))
		require.NoError(t, err)
		byMember[member] = append(byMember[member], c.ID)
	}
	_, err := s.CreateContact(ctx, NewContact(NewBrandID(), "usr-a"))
	require.NoError(t, err)
	for _, ids := range byMember {
		slices.Sort(ids)
	}
	got, err := s.ContactsOfMembers(ctx, b, []string{"usr-c", "usr-a", "usr-nobody"})
	require.NoError(t, err)
	require.Equal(t, slices.Concat(byMember["usr-a"], byMember["usr-c"]), contacts.ids(got),
		"by member id then contact id, nothing of another member or brand")
	none, err := s.ContactsOfMembers(ctx, b, nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

func testContactsOfMember(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for i := range 6 {
		member := "usr-alice"
		if i%2 == 1 {
			member = "usr-bob"
		}
		c, err := s.CreateContact(ctx, NewContact(b, member))
		require.NoError(t, err)
		if member == "usr-alice" {
			want = append(want, c.ID)
		}
	}
	got, err := s.ContactsOfMembers(ctx, b, []string{"usr-alice"})
	require.NoError(t, err)
	require.Equal(t, want, contacts.ids(got))

	moved := got[0]
	moved.MemberID = "usr-bob"
	_, err = s.UpdateContact(ctx, moved)
	require.NoError(t, err)
	got, err = s.ContactsOfMembers(ctx, b, []string{"usr-alice"})
	require.NoError(t, err)
	require.Equal(t, want[1:], contacts.ids(got), "an update that changes the member moves the contact")

	none, err := s.ContactsOfMembers(ctx, b, []string{"usr-nobody"})
	require.NoError(t, err)
	require.Empty(t, none)
}
