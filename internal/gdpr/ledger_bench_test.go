package gdpr_test

import (
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/ledgerstore"
	"popsell-gdpr/internal/localstore"
)

// memLedger keeps one day's entries in memory and forgets seals, so that a benchmark seals
// the same day again and again and measures the service, not a disk.
type memLedger struct {
	mu      sync.Mutex
	entries []gdpr.LedgerEntry
}

func (m *memLedger) ClaimLedgerEntry(_ context.Context, e gdpr.LedgerEntry) (gdpr.LedgerEntry, error) {
	return e, nil
}
func (m *memLedger) AddLedgerDayEntry(_ context.Context, e gdpr.LedgerEntry) error { return nil }
func (m *memLedger) LedgerEntry(context.Context, gdpr.BrandID, string) (gdpr.LedgerEntry, error) {
	return gdpr.LedgerEntry{}, gdpr.ErrNotFound
}
func (m *memLedger) LedgerDays(context.Context, gdpr.BrandID) ([]string, error) {
	return []string{m.entries[0].Day}, nil
}
func (m *memLedger) LedgerDayEntries(_ context.Context, _ gdpr.BrandID, _ string) iter.Seq2[gdpr.LedgerEntry, error] {
	return func(yield func(gdpr.LedgerEntry, error) bool) {
		for _, e := range m.entries {
			if !yield(e, nil) {
				return
			}
		}
	}
}
func (m *memLedger) LedgerDayRecordIDs(context.Context, gdpr.BrandID, string) ([]string, error) {
	ids := make([]string, len(m.entries))
	for i, e := range m.entries {
		ids[i] = e.RecordID
	}
	return ids, nil
}
func (m *memLedger) PutLedgerSeal(context.Context, gdpr.LedgerSeal) error { return nil }
func (m *memLedger) LedgerSeals(context.Context, gdpr.BrandID) ([]gdpr.LedgerSeal, error) {
	return nil, nil
}
func (m *memLedger) LedgerSeal(context.Context, gdpr.BrandID, string) (gdpr.LedgerSeal, error) {
	return gdpr.LedgerSeal{}, gdpr.ErrNotFound
}
func (m *memLedger) LedgerLeaves(context.Context, gdpr.BrandID, string) ([]string, error) {
	return nil, gdpr.ErrNotFound
}

func benchLedger(b *testing.B, store gdpr.LedgerStore, clock gdpr.Clock) *gdpr.LedgerService {
	db, err := localstore.Open(filepath.Join(b.TempDir(), "store.db"))
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(b, err)
	core := gdpr.Core{Brands: db, Hasher: h, Clock: clock}
	brands, err := gdpr.NewBrandService(core, db)
	require.NoError(b, err)
	_, _, err = brands.PutBrand(b.Context(), "bench", gdpr.BrandSettings{Name: "Bench"})
	require.NoError(b, err)
	svc, err := gdpr.NewLedgerService(core, store)
	require.NoError(b, err)
	return svc
}

// BenchmarkSealDay100k: sealing one brand's day of 100,000 erasure records, their canonical
// JSON already stored (the store's reads left out): leaf hashes, the root, the leaf list.
func BenchmarkSealDay100k(b *testing.B) {
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	m := &memLedger{}
	for i := range 100_000 {
		r := ledgerRecord("bench", fmt.Sprintf("er_%08d", i), day.Add(time.Duration(i)*time.Millisecond))
		m.entries = append(m.entries, gdpr.LedgerEntry{BrandID: "bench", RecordID: r.ID, Day: "2026-12-01",
			Record: []byte(fmt.Sprintf(`{"brandId":"bench","id":%q,"subjectId":"m_%08d","subjectKind":"member","role":0,"rule":"R-ERASE-1","reason":"unsubscribed","requestedAt":"2026-11-23T10:00:00Z","dueAt":"2026-11-30T10:00:00Z","doneAt":"2026-12-01T10:00:00.123456789Z","fieldsErased":["address.street","firstName","lastName","password"],"fieldsHashed":["email"],"blobsDeleted":1,"contactsErased":10,"contactsKept":0}`, r.ID, i))})
	}
	slices.SortFunc(m.entries, func(a, c gdpr.LedgerEntry) int { return strings.Compare(a.RecordID, c.RecordID) })
	svc := benchLedger(b, m, clocktest.New(day))
	now := day.Add(25 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, svc.Seal(b.Context(), now))
	}
}

// BenchmarkLedgerAppendFolder: appending erasure records to local mode's ledger folder, 100
// at a time as the erasure worker's batches come (a create-only file and a link to it each).
func BenchmarkLedgerAppendFolder(b *testing.B) {
	clock := clocktest.New(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	svc := benchLedger(b, ledgerstore.New(blobstore.NewFolder(filepath.Join(b.TempDir(), "ledger"))), clock)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		recs := make([]gdpr.ErasureRecord, 100)
		for i := range recs {
			recs[i] = ledgerRecord("bench", fmt.Sprintf("er_%08d", n), clock.Now())
			n++
		}
		require.NoError(b, svc.Append(b.Context(), recs...))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
