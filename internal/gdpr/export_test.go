package gdpr_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/storetest"
)

// exportFolder is a blob folder as the export service sees it: a missing blob is the
// domain's not-found, and every stream written is counted.
type exportFolder struct {
	*blobstore.Folder
	puts atomic.Int64
}

func (f *exportFolder) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := f.Folder.Open(ctx, key)
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, gdpr.ErrNotFound
	}
	return r, err
}

func (f *exportFolder) PutStream(ctx context.Context, key string, r io.Reader, ct string) error {
	f.puts.Add(1)
	return f.Folder.PutStream(ctx, key, r, ct)
}

// exportWorld is a store, the export service over it, its folders and a manual clock.
type exportWorld struct {
	store   *localstore.Store
	exports *gdpr.ExportService
	all     *gdpr.Services
	files   *exportFolder
	members *exportFolder
	clock   *clocktest.Manual
	brand   gdpr.BrandID
}

func newExportWorld(t testing.TB) *exportWorld {
	t.Helper()
	dir := t.TempDir()
	store, err := localstore.Open(filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	w := &exportWorld{store: store, clock: clocktest.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)), brand: "acme",
		files: &exportFolder{Folder: blobstore.NewFolder(filepath.Join(dir, "exports"))}, members: &exportFolder{Folder: blobstore.NewFolder(filepath.Join(dir, "blobs"))}}
	w.all = wire(t, gdpr.Core{Clock: w.clock}, gdpr.Platform{Store: store, Exports: w.files, MemberFiles: w.members})
	w.exports = w.all.Exports
	_, _, err = w.all.Brands.PutBrand(context.Background(), w.brand, gdpr.BrandSettings{Name: "Acme"})
	require.NoError(t, err)
	return w
}

// member stores a member with every field set, live, and its photo.
func (w *exportWorld) member(t testing.TB) gdpr.User {
	t.Helper()
	u := storetest.NewUser(w.brand)
	u.Status, u.Erasure, u.Block = gdpr.UserActive, nil, nil
	u.UGC = nil
	created, err := w.store.CreateUser(context.Background(), u)
	require.NoError(t, err)
	require.NoError(t, w.members.Put(context.Background(), u.PhotoKey, []byte("JPEG-of-"+u.ID), "image/jpeg"))
	return created
}

// contact stores a live contact of member with every field set.
func (w *exportWorld) contact(t testing.TB, memberID string, member gdpr.MemberOptIn, brand gdpr.BrandOptIn) gdpr.Contact {
	t.Helper()
	c := storetest.NewContact(w.brand, memberID)
	c.ErasedAt, c.ErasedBy, c.Erasure = time.Time{}, "", nil
	c.MemberOptIn.Value, c.BrandOptIn.Value = member, brand
	created, err := w.store.CreateContact(context.Background(), c)
	require.NoError(t, err)
	return created
}

// unzip reads every entry of an export's zip.
func unzip(t testing.TB, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		r.Close()
		out[f.Name] = b
	}
	return out
}

// download fetches a link's file through the service, as the route does.
func (w *exportWorld) download(t testing.TB, d gdpr.Download) ([]byte, error) {
	t.Helper()
	token := d.URL[strings.LastIndex(d.URL, "/")+1:]
	got, err := w.exports.Download(context.Background(), w.brand, token)
	if err != nil {
		return nil, err
	}
	defer got.Body.Close()
	return io.ReadAll(got.Body)
}

// TestRAccess2AccessExportFollowsTheDataMap: an access export of a member with contacts,
// consents and a photo carries, field by field, what the data map marks exported and
// nothing else, contacts as the member's CRM shows them (R-RIGHTS-1, R-ACCESS-2).
func TestRAccess2AccessExportFollowsTheDataMap(t *testing.T) {
	w := newExportWorld(t)
	ctx := context.Background()
	m := w.member(t)
	visible := w.contact(t, m.ID, gdpr.MemberOptInInvitationAccepted, gdpr.BrandOptInNone)
	optedOut := w.contact(t, m.ID, gdpr.MemberOptOutFromEmail, gdpr.BrandOptInNone)
	pending := w.contact(t, m.ID, gdpr.MemberOptInBlogPending, gdpr.BrandOptInNone)
	w.contact(t, w.member(t).ID, gdpr.MemberOptInInvitationAccepted, gdpr.BrandOptInNone) // another member's

	d, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-1", Scope: gdpr.ExportSubject, SubjectID: m.ID})
	require.NoError(t, err)
	require.Equal(t, w.clock.Now().Add(48*time.Hour), d.ExpiresAt, "48 hours by default (R-ACCESS-3)")
	data, err := w.download(t, d)
	require.NoError(t, err)
	entries := unzip(t, data)
	for _, name := range []string{"export.json", "profile.csv", "contacts.csv", "consents.csv", "sales.csv", "erasures.csv", "requests.csv", "files/photoKey.jpg"} {
		require.Contains(t, entries, name)
	}
	require.Equal(t, "JPEG-of-"+m.ID, string(entries["files/photoKey.jpg"]), "the member's photo")
	requireExportSchema(t, entries["export.json"])

	var doc struct {
		Profiles []map[string]any     `json:"profiles"`
		Contacts []map[string]any     `json:"contacts"`
		Consents []gdpr.ConsentRecord `json:"consents"`
		Files    []map[string]any     `json:"files"`
	}
	require.NoError(t, json.Unmarshal(entries["export.json"], &doc))
	require.Len(t, doc.Profiles, 1)

	// Field by field: each path the data map marks exported is there with the stored value,
	// each one it does not is absent.
	stored, err := json.Marshal(m)
	require.NoError(t, err)
	var storedDoc map[string]any
	require.NoError(t, json.Unmarshal(stored, &storedDoc))
	for _, table := range gdpr.DataMap() {
		if table.Kind != string(gdpr.SubjectMember) {
			continue
		}
		for _, f := range table.Fields {
			want, wantOK := lookup(storedDoc, f.Path)
			got, gotOK := lookup(doc.Profiles[0], f.Path)
			if f.Export {
				require.Equal(t, wantOK, gotOK, "exported field %s", f.Path)
				require.Equal(t, want, got, "exported field %s", f.Path)
			} else {
				require.False(t, gotOK, "field %s is not exported (data map) but is in the export", f.Path)
			}
		}
	}

	// Contacts: the member's own, as its CRM shows them.
	require.Len(t, doc.Contacts, 2, "the pending contact is hidden from the member, another member's is not its own")
	byID := map[string]map[string]any{}
	for _, c := range doc.Contacts {
		byID[c["id"].(string)] = c
	}
	require.NotContains(t, byID, pending.ID)
	require.Equal(t, visible.Email, byID[visible.ID]["email"])
	require.NotContains(t, byID[optedOut.ID], "email", "an opted-out contact's address is hidden from the member (R-RET-7)")
	sale := byID[visible.ID]["sales"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"amount": "49.90", "at": visible.Sales[0].At.Format(time.RFC3339Nano)}, sale, "a sale is its date and amount (R-CONSENT-8)")
	require.Equal(t, visible.Notes, byID[visible.ID]["notes"])
	require.NotContains(t, byID[visible.ID], "nextReviewAt")

	// Consents: the T&C and the four opt-ins, with the ISO/IEC TS 27560 elements.
	require.Len(t, doc.Consents, 5)
	terms := doc.Consents[0]
	require.Equal(t, m.ID+":terms", terms.RecordID)
	require.Equal(t, m.ID, terms.SubjectID)
	require.Equal(t, "acme", terms.Controller)
	require.Equal(t, gdpr.LegalBasisContract, terms.LegalBasis)
	require.Equal(t, gdpr.ConsentGiven, terms.State)
	require.Equal(t, m.Terms.Version, terms.Notice)
	require.True(t, m.Terms.AcceptedAt.Equal(terms.Events[0].At))
	require.NotEmpty(t, terms.DataCategories)
	news := doc.Consents[1]
	require.Equal(t, gdpr.LegalBasisConsent, news.LegalBasis)
	require.Contains(t, news.Purposes, "newsletter")
	require.True(t, m.OptIns.NewsletterAt.Equal(news.Events[0].At))

	require.Len(t, doc.Files, 1)
	require.Equal(t, "photoKey", doc.Files[0]["field"])
	require.Contains(t, string(entries["contacts.csv"]), visible.Notes)
	require.Contains(t, string(entries["profile.csv"]), m.ID+",firstName,"+m.FirstName)
}

// lookup finds a dotted path ("address.city", "sales[].at") in a decoded document; an array
// segment looks into its first element.
func lookup(doc map[string]any, path string) (any, bool) {
	var v any = doc
	for seg := range strings.SplitSeq(path, ".") {
		arr := strings.HasSuffix(seg, "[]")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[strings.TrimSuffix(seg, "[]")]; !ok {
			return nil, false
		}
		if arr {
			a, ok := v.([]any)
			if !ok || len(a) == 0 {
				return nil, false
			}
			v = a[0]
		}
	}
	return v, true
}

// TestRAccess3ProduceIsIdempotent: producing a request's export again returns the same link
// and writes nothing; concurrent first calls end with one file and one link.
func TestRAccess3ProduceIsIdempotent(t *testing.T) {
	w := newExportWorld(t)
	ctx := context.Background()
	m := w.member(t)
	w.contact(t, m.ID, gdpr.MemberOptInInvitationAccepted, gdpr.BrandOptInNone)
	job := gdpr.ExportJob{Brand: w.brand, RequestID: "req-again", Scope: gdpr.ExportSubject, SubjectID: m.ID}

	const callers = 8
	var wg sync.WaitGroup
	links := make([]gdpr.Download, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { links[i], errs[i] = w.exports.Produce(ctx, job) })
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		require.Equal(t, links[0], links[i], "every concurrent call answers the one link")
	}
	keys, err := w.files.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, keys, 1, "one file")

	puts := w.files.puts.Load()
	again, err := w.exports.Produce(ctx, job)
	require.NoError(t, err)
	require.Equal(t, links[0], again)
	require.Equal(t, puts, w.files.puts.Load(), "a redelivered job writes nothing")

	other := job
	other.SubjectID = w.member(t).ID
	_, err = w.exports.Produce(ctx, other)
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), "a request id answers one subject")
	for _, bad := range []gdpr.ExportJob{
		{Brand: w.brand, RequestID: "../x", Scope: gdpr.ExportSubject, SubjectID: m.ID},
		{Brand: w.brand, RequestID: "r2", Scope: "everything"},
		{Brand: w.brand, RequestID: "r3", Scope: gdpr.ExportSubject},
		{Brand: w.brand, RequestID: "r4", Scope: gdpr.ExportBrand, SubjectID: m.ID},
	} {
		_, err := w.exports.Produce(ctx, bad)
		require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "%+v", bad)
	}
	_, err = w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "r5", Scope: gdpr.ExportSubject, SubjectID: "usr-none"})
	require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err))
}

// TestRAccess3LinkRules: at most three downloads, however many ask at once; a brand's
// shorter validity; expiry answers gone and the sweep deletes the file.
func TestRAccess3LinkRules(t *testing.T) {
	ctx := context.Background()
	t.Run("three_downloads_among_many_concurrent", func(t *testing.T) {
		w := newExportWorld(t)
		d, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-dl", Scope: gdpr.ExportSubject, SubjectID: w.member(t).ID})
		require.NoError(t, err)
		const askers = 24
		var ok, gone atomic.Int64
		var wg sync.WaitGroup
		for range askers {
			wg.Go(func() {
				_, err := w.download(t, d)
				switch {
				case err == nil:
					ok.Add(1)
				case gdpr.ErrorCode(err) == gdpr.CodeGone:
					gone.Add(1)
				default:
					t.Errorf("download: %v", err)
				}
			})
		}
		wg.Wait()
		require.EqualValues(t, gdpr.MaxExportDownloads, ok.Load(), "exactly three downloads served")
		require.EqualValues(t, askers-gdpr.MaxExportDownloads, gone.Load())
		_, err = w.download(t, d)
		require.Equal(t, gdpr.CodeGone, gdpr.ErrorCode(err), "the fourth is refused")
	})
	t.Run("bad_and_unknown_tokens", func(t *testing.T) {
		w := newExportWorld(t)
		_, err := w.exports.Download(ctx, w.brand, "short")
		require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
		_, err = w.exports.Download(ctx, w.brand, strings.Repeat("A", 43))
		require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err))
	})
	t.Run("brand_setting_shortens_and_expiry_deletes", func(t *testing.T) {
		w := newExportWorld(t)
		_, err := w.all.Brands.PatchBrand(ctx, w.brand, func(s gdpr.BrandSettings) (gdpr.BrandSettings, error) {
			s.Retention.ExportLink = gdpr.Period{Exact: 2 * time.Hour}
			return s, nil
		})
		require.NoError(t, err)
		d, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-exp", Scope: gdpr.ExportSubject, SubjectID: w.member(t).ID})
		require.NoError(t, err)
		require.Equal(t, w.clock.Now().Add(2*time.Hour), d.ExpiresAt)
		link, err := w.exports.ExportLink(ctx, w.brand, "req-exp")
		require.NoError(t, err)
		require.Equal(t, d, link, "the request's GET shows the same link again")

		w.clock.Advance(2 * time.Hour)
		n, err := w.exports.SweepBrand(ctx, w.brand)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		keys, err := w.files.List(ctx, "")
		require.NoError(t, err)
		require.Empty(t, keys, "the file is deleted")
		_, err = w.download(t, d)
		require.Equal(t, gdpr.CodeGone, gdpr.ErrorCode(err))
		link, err = w.exports.ExportLink(ctx, w.brand, "req-exp")
		require.NoError(t, err)
		require.Zero(t, link)
		again, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-exp", Scope: gdpr.ExportSubject, SubjectID: d.URL[:0] + mustRecordSubject(t, w, "req-exp")})
		require.Equal(t, gdpr.CodeGone, gdpr.ErrorCode(err), "a deleted export is not made again under the same request: %v", again)
	})
	t.Run("settings_beyond_48_hours_refused", func(t *testing.T) {
		w := newExportWorld(t)
		for _, p := range []gdpr.Period{{Exact: 49 * time.Hour}, {Days: 3}, {Exact: 30 * time.Minute}} {
			_, err := w.all.Brands.PatchBrand(ctx, w.brand, func(s gdpr.BrandSettings) (gdpr.BrandSettings, error) {
				s.Retention.ExportLink = p
				return s, nil
			})
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "%v", p)
		}
	})
	t.Run("an_erasure_deletes_its_subjects_exports_at_once", func(t *testing.T) {
		// Erased means gone, for our files too: the erasure deletes the subject's exports as
		// one of its steps, not a day later at the sweep; another member's stays.
		q := &recordingQueue{}
		w := newExportWorld(t)
		w.all = wire(t, gdpr.Core{Clock: w.clock}, gdpr.Platform{Store: w.store, Queue: q, Exports: w.files, MemberFiles: w.members})
		w.exports = w.all.Exports
		m, other := w.member(t), w.member(t)
		blocked, err := w.all.Retention.BlockMember(ctx, w.brand, m.ID, gdpr.ReasonUnsubscribed)
		require.NoError(t, err)
		w.clock.Set(blocked.Block.DueAt.Add(-time.Hour)) // both links still valid when the erasure runs
		_, err = w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-gone", Scope: gdpr.ExportSubject, SubjectID: m.ID})
		require.NoError(t, err)
		kept, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-kept", Scope: gdpr.ExportSubject, SubjectID: other.ID})
		require.NoError(t, err)
		w.clock.Set(blocked.Block.DueAt.Add(time.Minute))
		for _, msg := range q.msgs {
			require.NoError(t, w.all.Erasure.HandleErasureJob(ctx, msg.Body))
		}
		rec, err := w.store.GetExport(ctx, w.brand, "req-gone")
		require.NoError(t, err)
		require.Equal(t, gdpr.ExportDeleted, rec.Status)
		require.Equal(t, gdpr.ExportSubjectErased, rec.DeletedBecause)
		keys, err := w.files.List(ctx, "")
		require.NoError(t, err)
		require.Equal(t, []string{mustRecordKey(t, w, "req-kept")}, keys, "only the other member's file is left")
		_, err = w.download(t, kept)
		require.NoError(t, err, "and its link still serves")
	})
	t.Run("erased_subject_export_deleted_by_the_sweep", func(t *testing.T) {
		w := newExportWorld(t)
		m := w.member(t)
		d, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-er", Scope: gdpr.ExportSubject, SubjectID: m.ID})
		require.NoError(t, err)
		m.Status = gdpr.UserErased
		_, err = w.store.UpdateUser(ctx, m)
		require.NoError(t, err)
		_, err = w.download(t, d)
		require.Equal(t, gdpr.CodeGone, gdpr.ErrorCode(err), "an erased subject's export is not served")
		keys, err := w.files.List(ctx, "")
		require.NoError(t, err)
		require.Empty(t, keys, "and its file is gone")
	})
}

func mustRecordKey(t *testing.T, w *exportWorld, requestID string) string {
	t.Helper()
	rec, err := w.store.GetExport(context.Background(), w.brand, requestID)
	require.NoError(t, err)
	return rec.BlobKey
}

func mustRecordSubject(t *testing.T, w *exportWorld, requestID string) string {
	t.Helper()
	rec, err := w.store.GetExport(context.Background(), w.brand, requestID)
	require.NoError(t, err)
	return rec.SubjectID
}

// TestRAccess1BrandExportOnlyContactsWithBrandOptIn: a brand's export carries every subject
// of the brand, and of the contacts only those with a Brand opt-in, never one without.
func TestRAccess1BrandExportOnlyContactsWithBrandOptIn(t *testing.T) {
	w := newExportWorld(t)
	ctx := context.Background()
	m1, m2 := w.member(t), w.member(t)
	with := w.contact(t, m1.ID, gdpr.MemberOptInInvitationAccepted, gdpr.BrandOptInBlog)
	storage := w.contact(t, m2.ID, gdpr.MemberOptInInvitationAccepted, gdpr.BrandOptInStorageOnly)
	without := w.contact(t, m2.ID, gdpr.MemberOptInInvitationAccepted, gdpr.BrandOptInNone)
	d, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-brand", Scope: gdpr.ExportBrand})
	require.NoError(t, err)
	data, err := w.download(t, d)
	require.NoError(t, err)
	entries := unzip(t, data)
	requireExportSchema(t, entries["export.json"])
	var doc struct {
		Profiles []map[string]any     `json:"profiles"`
		Contacts []map[string]any     `json:"contacts"`
		Consents []gdpr.ConsentRecord `json:"consents"`
	}
	require.NoError(t, json.Unmarshal(entries["export.json"], &doc))
	require.Len(t, doc.Profiles, 2)
	var ids []string
	for _, c := range doc.Contacts {
		ids = append(ids, c["id"].(string))
	}
	require.ElementsMatch(t, []string{with.ID, storage.ID}, ids)
	for name, b := range entries {
		for _, v := range []string{without.ID, without.Email, without.FirstName, without.Notes} {
			require.NotContains(t, string(b), v, "%s carries a contact without Brand opt-in (R-ACCESS-1)", name)
		}
	}
	require.Contains(t, string(entries["sales.csv"]), with.Sales[0].OrderID, "the Manager sees the order's details")
}

// TestRRights1NoUnexportedFieldInAnyExport is the property: for random subjects whose every
// field the data map marks not exported holds a planted value, no planted value appears in
// any byte of any entry of the zip, whatever the mix of contacts and opt-ins.
func TestRRights1NoUnexportedFieldInAnyExport(t *testing.T) {
	w := newExportWorld(t)
	ctx := context.Background()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	memberOpts := []gdpr.MemberOptIn{gdpr.MemberOptInInvitationAccepted, gdpr.MemberOptOutFromEmail, gdpr.MemberOptInBlogPending,
		gdpr.MemberOptInNew, gdpr.MemberGlobalOptOut}
	brandOpts := []gdpr.BrandOptIn{gdpr.BrandOptInNone, gdpr.BrandOptInBlog, gdpr.BrandOptInStorageOnly}
	var planted []string
	plant := func(kind string, doc any, out any) {
		b, err := json.Marshal(doc)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		for _, table := range gdpr.DataMap() {
			if table.Kind != kind {
				continue
			}
			for _, f := range table.Fields {
				if f.Export || f.Path == "brandId" || f.Path == "erasedAt" {
					continue // the partition key, and a contact whose erasedAt is set is erased whole
				}
				planted = append(planted, plantAt(m, f.Path, rng, &planted)...)
			}
		}
		b, err = json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, out))
	}
	for i := range 12 {
		u := storetest.NewUser(w.brand)
		u.Status, u.Block, u.UGC = gdpr.UserActive, nil, nil
		var pu gdpr.User
		plant(string(gdpr.SubjectMember), u, &pu)
		pu.Kind = gdpr.SubjectMember
		_, err := w.store.CreateUser(ctx, pu)
		require.NoError(t, err)
		for range rng.IntN(6) {
			c := storetest.NewContact(w.brand, pu.ID)
			c.ErasedAt = time.Time{}
			c.MemberOptIn.Value = memberOpts[rng.IntN(len(memberOpts))]
			c.BrandOptIn.Value = brandOpts[rng.IntN(len(brandOpts))]
			var pc gdpr.Contact
			plant(string(gdpr.SubjectContact), c, &pc)
			_, err := w.store.CreateContact(ctx, pc)
			require.NoError(t, err)
		}
		scope, subject := gdpr.ExportSubject, pu.ID
		if i%4 == 3 {
			scope, subject = gdpr.ExportBrand, ""
		}
		d, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: fmt.Sprintf("req-%d", i), Scope: scope, SubjectID: subject})
		require.NoError(t, err)
		data, err := w.download(t, d)
		require.NoError(t, err)
		for name, b := range unzip(t, data) {
			for _, p := range planted {
				if bytes.Contains(b, []byte(p)) {
					t.Fatalf("%s carries %q, planted in a field the data map does not export", name, p)
				}
			}
		}
	}
	require.NotEmpty(t, planted)
}

// plantAt replaces every value under path in m by a planted one the export can be searched
// for: a unique string, a unique time (for a value that reads as one), a unique number.
func plantAt(m map[string]any, path string, rng *rand.Rand, _ *[]string) []string {
	var out []string
	var replace func(v any) any
	replace = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = replace(e)
			}
			return x
		case []any:
			for i, e := range x {
				x[i] = replace(e)
			}
			return x
		case string:
			if _, err := time.Parse(time.RFC3339Nano, x); err == nil {
				at := time.Date(2090+rng.IntN(9), 1, 1, 0, 0, 0, rng.IntN(1e9), time.UTC).Format(time.RFC3339Nano)
				out = append(out, at)
				return at
			}
			p := fmt.Sprintf("PLANTED%016x", rng.Uint64())
			out = append(out, p)
			return p
		case float64:
			n := float64(900000000 + rng.IntN(99999999))
			out = append(out, fmt.Sprint(int64(n)))
			return n
		}
		return v
	}
	segs := strings.Split(strings.ReplaceAll(path, "[]", ""), ".")
	parent := m
	for _, s := range segs[:len(segs)-1] {
		next, ok := parent[s].(map[string]any)
		if !ok {
			return nil
		}
		parent = next
	}
	last := segs[len(segs)-1]
	if v, ok := parent[last]; ok {
		parent[last] = replace(v)
	}
	return out
}

// FuzzExportDownloadToken: whatever a link's path carries, the download answers a malformed
// token invalid, anything else not found, and serves nothing but the one export's file.
func FuzzExportDownloadToken(f *testing.F) {
	w := newExportWorld(f)
	ctx := context.Background()
	d, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "req-fuzz", Scope: gdpr.ExportSubject, SubjectID: w.member(f).ID})
	require.NoError(f, err)
	valid := d.URL[strings.LastIndex(d.URL, "/")+1:]
	f.Add(valid)
	f.Add(valid[:42])
	f.Add(valid + "=")
	f.Add(strings.Repeat("A", 43))
	f.Add("../../etc/passwd")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := w.exports.Download(ctx, w.brand, token)
		if err == nil {
			got.Body.Close()
			if token != valid {
				t.Fatalf("a token other than the link's served a file")
			}
			return
		}
		switch gdpr.ErrorCode(err) {
		case gdpr.CodeInvalid, gdpr.CodeNotFound:
		case gdpr.CodeGone:
			if token != valid {
				t.Fatalf("a token other than the link's found its export")
			}
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
