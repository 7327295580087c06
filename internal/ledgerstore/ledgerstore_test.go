package ledgerstore_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/ledgerstore"
	"popsell-gdpr/internal/testenv"
)

func TestFolder(t *testing.T) {
	testLedgerStore(t, ledgerstore.New(blobstore.NewFolder(t.TempDir())))
}

// In a folder a record's day entry is a second name of its entry's file: no second file.
func TestFolderDayEntryIsTheEntrysFile(t *testing.T) {
	ctx := context.Background()
	folder := blobstore.NewFolder(t.TempDir())
	s := ledgerstore.New(folder)
	e := entry("acme", "er_1", "2026-12-01", `{"id":"er_1"}`)
	stored, err := s.ClaimLedgerEntry(ctx, e)
	require.NoError(t, err)
	require.NoError(t, s.AddLedgerDayEntry(ctx, stored))
	stat := func(parts ...string) os.FileInfo {
		fi, err := os.Stat(filepath.Join(append([]string{folder.Root(), "ledger", "acme"}, parts...)...))
		require.NoError(t, err)
		return fi
	}
	require.True(t, os.SameFile(stat("records", "er_1.json"), stat("days", "2026-12-01", "er_1.json")))
}

func TestAzure(t *testing.T) {
	client, err := azblob.NewClientFromConnectionString(testenv.Azurite(t), nil)
	require.NoError(t, err)
	container := testenv.Name(t, "ledger")
	a := blobstore.NewAzure(client, container)
	require.NoError(t, a.EnsureContainer(context.Background()))
	t.Cleanup(func() { _, _ = client.DeleteContainer(context.Background(), container, nil) })
	testLedgerStore(t, ledgerstore.New(a))
}

func entry(brand gdpr.BrandID, id, day, record string) gdpr.LedgerEntry {
	return gdpr.LedgerEntry{BrandID: brand, RecordID: id, Day: day, Record: []byte(record)}
}

// testLedgerStore is gdpr.LedgerStore's contract, which both blob adapters keep.
func testLedgerStore(t *testing.T, s gdpr.LedgerStore) {
	ctx := context.Background()

	t.Run("the first claim of an id fixes its day and bytes", func(t *testing.T) {
		first := entry("acme", "er_1", "2026-12-01", `{"id":"er_1"}`)
		got, err := s.ClaimLedgerEntry(ctx, first)
		require.NoError(t, err)
		require.Equal(t, first, got)
		got, err = s.ClaimLedgerEntry(ctx, entry("acme", "er_1", "2026-12-02", `{"id":"er_1","x":1}`))
		require.NoError(t, err)
		require.Equal(t, first, got, "a later claim gets the stored entry")
		got, err = s.LedgerEntry(ctx, "acme", "er_1")
		require.NoError(t, err)
		require.Equal(t, first, got)
		_, err = s.LedgerEntry(ctx, "other", "er_1")
		require.ErrorIs(t, err, gdpr.ErrNotFound, "brands stay apart (R-TEN-1)")
	})

	t.Run("a day entry is listed once; other bytes conflict", func(t *testing.T) {
		e := entry("acme", "er_1", "2026-12-01", `{"id":"er_1"}`)
		require.NoError(t, s.AddLedgerDayEntry(ctx, e))
		require.NoError(t, s.AddLedgerDayEntry(ctx, e), "again: success")
		require.ErrorIs(t, s.AddLedgerDayEntry(ctx, entry("acme", "er_1", "2026-12-01", `{"id":"er_1","x":1}`)), gdpr.ErrConflict)
	})

	t.Run("a day entry holds the bytes it was given, not its claim's", func(t *testing.T) {
		claimed := entry("beta", "er_5", "2026-12-05", `{"id":"er_5"}`)
		_, err := s.ClaimLedgerEntry(ctx, claimed)
		require.NoError(t, err)
		require.NoError(t, s.AddLedgerDayEntry(ctx, claimed))
		other := entry("beta", "er_5", "2026-12-06", `{"id":"er_5","x":1}`)
		require.NoError(t, s.AddLedgerDayEntry(ctx, other))
		for day, want := range map[string]gdpr.LedgerEntry{"2026-12-05": claimed, "2026-12-06": other} {
			var got []gdpr.LedgerEntry
			for e, err := range s.LedgerDayEntries(ctx, "beta", day) {
				require.NoError(t, err)
				got = append(got, e)
			}
			require.Equal(t, []gdpr.LedgerEntry{want}, got)
		}
		require.ErrorIs(t, s.AddLedgerDayEntry(ctx, entry("beta", "er_5", "2026-12-06", `{"id":"er_5"}`)), gdpr.ErrConflict,
			"the claim's bytes under a day that holds others")
	})

	t.Run("days and their entries in order", func(t *testing.T) {
		for _, e := range []gdpr.LedgerEntry{
			entry("acme", "er_2-b", "2026-12-01", `{"id":"er_2-b"}`),
			entry("acme", "er_2", "2026-12-01", `{"id":"er_2"}`),
			entry("acme", "er_0", "2026-11-30", `{"id":"er_0"}`),
			entry("other", "er_9", "2026-11-29", `{"id":"er_9"}`),
		} {
			require.NoError(t, s.AddLedgerDayEntry(ctx, e))
		}
		days, err := s.LedgerDays(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, []string{"2026-11-30", "2026-12-01"}, days)
		var ids []string
		for e, err := range s.LedgerDayEntries(ctx, "acme", "2026-12-01") {
			require.NoError(t, err)
			require.Equal(t, "2026-12-01", e.Day)
			ids = append(ids, e.RecordID)
		}
		require.Equal(t, []string{"er_1", "er_2", "er_2-b"}, ids, "record-id order, not key order")
		listed, err := s.LedgerDayRecordIDs(ctx, "acme", "2026-12-01")
		require.NoError(t, err)
		require.Equal(t, ids, listed, "the listing names the entries the day yields, in their order")
		none, err := s.LedgerDayRecordIDs(ctx, "acme", "2026-01-01")
		require.NoError(t, err)
		require.Empty(t, none)
		for range s.LedgerDayEntries(ctx, "acme", "2026-01-01") {
			t.Fatal("a day without entries yields none")
		}
	})

	t.Run("seals are create-only and keep their leaves apart", func(t *testing.T) {
		seal := gdpr.LedgerSeal{BrandID: "acme", Day: "2026-12-01", Count: 2, Root: "r1", Previous: gdpr.GenesisPrevious,
			Leaves: []string{"l1", "l2"}}
		require.NoError(t, s.PutLedgerSeal(ctx, seal))
		require.NoError(t, s.PutLedgerSeal(ctx, seal), "the same seal again: success")
		other := seal
		other.Root = "r2"
		require.ErrorIs(t, s.PutLedgerSeal(ctx, other), gdpr.ErrConflict)
		empty := gdpr.LedgerSeal{BrandID: "acme", Day: "2026-11-30", Count: 0, Root: "e", Previous: gdpr.GenesisPrevious}
		require.NoError(t, s.PutLedgerSeal(ctx, empty))

		seals, err := s.LedgerSeals(ctx, "acme")
		require.NoError(t, err)
		require.Len(t, seals, 2)
		require.Equal(t, "2026-11-30", seals[0].Day)
		require.Equal(t, "r1", seals[1].Root, "the first seal stays")
		require.Nil(t, seals[1].Leaves)
		leaves, err := s.LedgerLeaves(ctx, "acme", "2026-12-01")
		require.NoError(t, err)
		require.Equal(t, []string{"l1", "l2"}, leaves)
		leaves, err = s.LedgerLeaves(ctx, "acme", "2026-11-30")
		require.NoError(t, err)
		require.Empty(t, leaves)
		_, err = s.LedgerSeal(ctx, "acme", "2026-12-05")
		require.ErrorIs(t, err, gdpr.ErrNotFound)
		seals, err = s.LedgerSeals(ctx, "other")
		require.NoError(t, err)
		require.Empty(t, seals)
	})

	t.Run("concurrent claims of one id agree on the first", func(t *testing.T) {
		var wg sync.WaitGroup
		got := make([]gdpr.LedgerEntry, 12)
		for i := range got {
			wg.Go(func() {
				day := "2026-12-03"
				if i%2 == 1 {
					day = "2026-12-04"
				}
				var err error
				got[i], err = s.ClaimLedgerEntry(ctx, entry("acme", "er_race", day, `{"id":"er_race"}`))
				require.NoError(t, err)
			})
		}
		wg.Wait()
		for _, e := range got {
			require.Equal(t, got[0], e)
		}
	})
}
