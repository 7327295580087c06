package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// NewExport returns an export record with every field set, its file deleted.
func NewExport(brand gdpr.BrandID, status gdpr.ExportStatus) gdpr.ExportRecord {
	n := next()
	t := at(n)
	return gdpr.ExportRecord{
		BrandID: brand, RequestID: fmt.Sprintf("req-%010d", n), Scope: gdpr.ExportSubject,
		SubjectID: fmt.Sprintf("usr-%010d", n), ExportID: fmt.Sprintf("ex_%032x", n),
		BlobKey: fmt.Sprintf("%s/ex_%032x.zip", brand, n), TokenDigest: NewDigest(), Status: status,
		CreatedAt: t, ReadyAt: t.Add(time.Minute), ExpiresAt: t.Add(48 * time.Hour), Downloads: 2,
		DeletedAt: t.Add(49 * time.Hour), DeletedBecause: gdpr.ExportExpired,
	}
}

var exportTests = []test{
	{"create_round_trip_every_field", testExportRoundTrip},
	{"create_existing_request_conflicts", testExportCreateExisting},
	{"found_by_token_digest", testExportByToken},
	{"stale_version_conflicts", testExportStale},
	{"live_exports_pages_and_leaves_deleted_out", testLiveExports},
}

// memberContactPageTests prove MemberContactPages, with the contacts.
var memberContactPageTests = []test{
	{"member_contacts_page_by_page", testMemberContactsPage},
}

func testExportRoundTrip(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	e := NewExport(b, gdpr.ExportDeleted)
	requireFilled(t, e, "Version")
	created, err := s.CreateExport(ctx, e)
	require.NoError(t, err)
	require.NotEmpty(t, created.Version)
	e.Version = created.Version
	RequireSame(t, e, created)
	got, err := s.GetExport(ctx, b, e.RequestID)
	require.NoError(t, err)
	RequireSame(t, e, got)
	_, err = s.GetExport(ctx, b, "req-missing")
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

func testExportCreateExisting(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	e := NewExport(b, gdpr.ExportProducing)
	created, err := s.CreateExport(ctx, e)
	require.NoError(t, err)
	again := e
	again.ExportID, again.TokenDigest = "ex_other", NewDigest()
	_, err = s.CreateExport(ctx, again)
	require.ErrorIs(t, err, gdpr.ErrConflict, "one export per request: the first record holds")
	got, err := s.GetExport(ctx, b, e.RequestID)
	require.NoError(t, err)
	RequireSame(t, created, got)
}

func testExportByToken(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	mine, other := NewExport(b, gdpr.ExportReady), NewExport(b, gdpr.ExportReady)
	for _, e := range []gdpr.ExportRecord{mine, other} {
		_, err := s.CreateExport(ctx, e)
		require.NoError(t, err)
	}
	got, err := s.ExportByToken(ctx, b, mine.TokenDigest)
	require.NoError(t, err)
	require.Equal(t, mine.RequestID, got.RequestID)
	_, err = s.ExportByToken(ctx, b, NewDigest())
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	_, err = s.ExportByToken(ctx, NewBrandID(), mine.TokenDigest)
	require.ErrorIs(t, err, gdpr.ErrNotFound, "another brand's token finds nothing")
}

func testExportStale(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	read, err := s.CreateExport(ctx, NewExport(b, gdpr.ExportReady))
	require.NoError(t, err)
	mine, theirs := read, read
	mine.Downloads, theirs.Downloads = read.Downloads+1, read.Downloads+1
	won, err := s.UpdateExport(ctx, mine)
	require.NoError(t, err)
	require.NotEqual(t, read.Version, won.Version)
	_, err = s.UpdateExport(ctx, theirs)
	require.ErrorIs(t, err, gdpr.ErrConflict, "two downloads counted at one version: one must read again")
	got, err := s.GetExport(ctx, b, read.RequestID)
	require.NoError(t, err)
	RequireSame(t, won, got)
	missing := NewExport(b, gdpr.ExportReady)
	missing.Version = won.Version
	_, err = s.UpdateExport(ctx, missing)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

func testLiveExports(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var live []string
	for i := range 5 {
		status := []gdpr.ExportStatus{gdpr.ExportReady, gdpr.ExportProducing, gdpr.ExportDeleted}[i%3]
		e, err := s.CreateExport(ctx, NewExport(b, status))
		require.NoError(t, err)
		if status != gdpr.ExportDeleted {
			live = append(live, e.RequestID)
		}
	}
	_, err := s.CreateExport(ctx, NewExport(NewBrandID(), gdpr.ExportReady))
	require.NoError(t, err)
	var got []string
	for after := ""; ; {
		page, err := s.LiveExports(ctx, b, after, 2)
		require.NoError(t, err)
		for _, e := range page {
			got = append(got, e.RequestID)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].RequestID
	}
	require.Equal(t, live, got, "live exports in request order, the deleted and another brand's left out")

	// A file deleted leaves the live ones.
	first, err := s.GetExport(ctx, b, live[0])
	require.NoError(t, err)
	first.Status = gdpr.ExportDeleted
	_, err = s.UpdateExport(ctx, first)
	require.NoError(t, err)
	page, err := s.LiveExports(ctx, b, "", 10)
	require.NoError(t, err)
	require.Len(t, page, len(live)-1)
}

func testMemberContactsPage(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for range 5 {
		c, err := s.CreateContact(ctx, NewContact(b, "usr-member"))
		require.NoError(t, err)
		want = append(want, c.ID)
	}
	_, err := s.CreateContact(ctx, NewContact(b, "usr-other"))
	require.NoError(t, err)
	var got []string
	for after := ""; ; {
		page, err := s.MemberContactsPage(ctx, b, "usr-member", after, 2)
		require.NoError(t, err)
		for _, c := range page {
			require.Equal(t, "usr-member", c.MemberID)
			got = append(got, c.ID)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	require.Equal(t, want, got)
}
