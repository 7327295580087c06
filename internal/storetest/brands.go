package storetest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

var brandTests = []test{
	{"create_round_trip_every_field", testBrandRoundTrip},
	{"create_existing_conflicts", testBrandCreateExisting},
	{"replace_with_current_version", testBrandReplace},
	{"replace_stale_version_conflicts", testBrandStale},
	{"replace_missing_not_found", testBrandReplaceMissing},
	{"get_missing_not_found", testBrandGetMissing},
	{"list_ordered_by_id", testBrandList},
}

func mustPutBrand(t *testing.T, s Store, b gdpr.Brand) gdpr.Brand {
	t.Helper()
	got, err := s.PutBrand(t.Context(), b)
	require.NoError(t, err)
	return got
}

func testBrandRoundTrip(t *testing.T, s Store) {
	b := NewBrand(NewBrandID())
	requireFilled(t, b, "Version")
	created := mustPutBrand(t, s, b)
	require.NotEmpty(t, created.Version)
	b.Version = created.Version
	RequireSame(t, b, created)

	got, err := s.GetBrand(t.Context(), b.ID)
	require.NoError(t, err)
	RequireSame(t, b, got)
}

func testBrandCreateExisting(t *testing.T, s Store) {
	b := NewBrand(NewBrandID())
	created := mustPutBrand(t, s, b)
	b.Name = "Other"
	_, err := s.PutBrand(t.Context(), b)
	require.ErrorIs(t, err, gdpr.ErrConflict, "an empty version creates, and the brand exists")

	got, err := s.GetBrand(t.Context(), b.ID)
	require.NoError(t, err)
	RequireSame(t, created, got)
}

func testBrandReplace(t *testing.T, s Store) {
	b := mustPutBrand(t, s, NewBrand(NewBrandID()))
	b.Name = "Renamed"
	b.Status = gdpr.BrandEnded
	replaced := mustPutBrand(t, s, b)
	require.NotEqual(t, b.Version, replaced.Version)
	require.Equal(t, "Renamed", replaced.Name)

	got, err := s.GetBrand(t.Context(), b.ID)
	require.NoError(t, err)
	RequireSame(t, replaced, got)
}

func testBrandStale(t *testing.T, s Store) {
	read := mustPutBrand(t, s, NewBrand(NewBrandID()))
	mine, theirs := read, read
	mine.Name = "Mine"
	won := mustPutBrand(t, s, mine)
	theirs.Name = "Theirs"
	_, err := s.PutBrand(t.Context(), theirs)
	require.ErrorIs(t, err, gdpr.ErrConflict)

	theirs.Version = "not-a-version"
	_, err = s.PutBrand(t.Context(), theirs)
	require.ErrorIs(t, err, gdpr.ErrConflict)

	got, err := s.GetBrand(t.Context(), read.ID)
	require.NoError(t, err)
	RequireSame(t, won, got)
}

func testBrandReplaceMissing(t *testing.T, s Store) {
	issued := mustPutBrand(t, s, NewBrand(NewBrandID()))
	missing := NewBrand(NewBrandID())
	missing.Version = issued.Version
	_, err := s.PutBrand(t.Context(), missing)
	require.ErrorIs(t, err, gdpr.ErrNotFound, "a version names a brand to replace, and there is none")
	_, err = s.GetBrand(t.Context(), missing.ID)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

func testBrandGetMissing(t *testing.T, s Store) {
	_, err := s.GetBrand(t.Context(), NewBrandID())
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

// testBrandList tolerates brands of other tests, which a shared store holds.
func testBrandList(t *testing.T, s Store) {
	var mine []gdpr.Brand
	for _, id := range []gdpr.BrandID{NewBrandID(), NewBrandID(), NewBrandID()} {
		mine = append(mine, mustPutBrand(t, s, NewBrand(id)))
	}
	slices.SortFunc(mine, func(a, b gdpr.Brand) int { return cmp.Compare(a.ID, b.ID) })

	all, err := s.ListBrands(t.Context())
	require.NoError(t, err)
	require.True(t, slices.IsSortedFunc(all, func(a, b gdpr.Brand) int { return cmp.Compare(a.ID, b.ID) }), "brands are listed in id order")
	var listed []gdpr.Brand
	for _, b := range all {
		if slices.ContainsFunc(mine, func(m gdpr.Brand) bool { return m.ID == b.ID }) {
			listed = append(listed, b)
		}
	}
	require.Len(t, listed, len(mine))
	for i := range mine {
		RequireSame(t, mine[i], listed[i])
	}
}
