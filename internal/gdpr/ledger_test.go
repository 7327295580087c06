package gdpr_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/ledgerstore"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/merkle"
)

type ledgerWorld struct {
	svc    *gdpr.LedgerService
	store  gdpr.LedgerStore
	clock  *clocktest.Manual
	brands *gdpr.BrandService
}

// newLedgerWorld is the ledger over a blob folder, as local mode runs it, with brands "acme"
// and "other".
func newLedgerWorld(t *testing.T) *ledgerWorld {
	t.Helper()
	dir := t.TempDir()
	db, err := localstore.Open(filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	w := &ledgerWorld{clock: clocktest.New(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)),
		store: ledgerstore.New(blobstore.NewFolder(filepath.Join(dir, "ledger")))}
	core := gdpr.Core{Brands: db, Hasher: h, Clock: w.clock}
	w.brands, err = gdpr.NewBrandService(core, db)
	require.NoError(t, err)
	for _, b := range []gdpr.BrandID{"acme", "other"} {
		_, _, err := w.brands.PutBrand(t.Context(), b, gdpr.BrandSettings{Name: string(b)})
		require.NoError(t, err)
	}
	w.svc, err = gdpr.NewLedgerService(core, w.store)
	require.NoError(t, err)
	return w
}

func ledgerRecord(brand gdpr.BrandID, id string, done time.Time) gdpr.ErasureRecord {
	role := gdpr.Role(0)
	return gdpr.ErasureRecord{BrandID: brand, ID: id, SubjectID: "m_" + id, SubjectKind: gdpr.SubjectMember, Role: &role,
		Rule: "R-ERASE-1", Reason: gdpr.ReasonUnsubscribed, RequestedAt: done.Add(-8 * 24 * time.Hour),
		DueAt: done.Add(-time.Hour), DoneAt: done, FieldsErased: []string{"firstName"}, FieldsHashed: []string{"email"}}
}

func (w *ledgerWorld) dayIDs(t *testing.T, brand gdpr.BrandID, day string) []string {
	var ids []string
	for e, err := range w.store.LedgerDayEntries(t.Context(), brand, day) {
		require.NoError(t, err)
		ids = append(ids, e.RecordID)
	}
	return ids
}

func TestLedgerAppend_R_ERASE_9(t *testing.T) {
	ctx := t.Context()
	w := newLedgerWorld(t)
	rec := ledgerRecord("acme", "er_a", w.clock.Now())

	t.Run("an append repeated, even after midnight, is one entry of its first day", func(t *testing.T) {
		require.NoError(t, w.svc.Append(ctx, rec))
		w.clock.Set(time.Date(2026, 12, 2, 0, 30, 0, 0, time.UTC))
		require.NoError(t, w.svc.Append(ctx, rec))
		require.Equal(t, []string{"er_a"}, w.dayIDs(t, "acme", "2026-12-01"))
		require.Empty(t, w.dayIDs(t, "acme", "2026-12-02"))
	})

	t.Run("the same record read back in another zone is the same entry", func(t *testing.T) {
		again := rec
		paris := time.FixedZone("CET", 3600)
		again.DoneAt, again.RequestedAt, again.DueAt = rec.DoneAt.In(paris), rec.RequestedAt.In(paris), rec.DueAt.In(paris)
		require.NoError(t, w.svc.Append(ctx, again))
	})

	t.Run("another record under a ledger id is refused and changes nothing", func(t *testing.T) {
		changed := rec
		changed.ContactsErased = 3
		err := w.svc.Append(ctx, changed)
		require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err))
		e, err := w.store.LedgerEntry(ctx, "acme", "er_a")
		require.NoError(t, err)
		require.NotContains(t, string(e.Record), `"contactsErased":3`)
	})

	t.Run("an id unfit for a blob name or a record without a brand is invalid", func(t *testing.T) {
		for _, r := range []gdpr.ErasureRecord{ledgerRecord("acme", "../x", w.clock.Now()),
			ledgerRecord("acme", "", w.clock.Now()), ledgerRecord("", "er_b", w.clock.Now())} {
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(w.svc.Append(ctx, r)))
		}
	})

	t.Run("many appends at once, each record twice: every one listed once", func(t *testing.T) {
		var recs []gdpr.ErasureRecord
		for i := range 40 {
			recs = append(recs, ledgerRecord("acme", fmt.Sprintf("er_c%02d", i), w.clock.Now()))
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { require.NoError(t, w.svc.Append(ctx, recs...)) })
		}
		wg.Wait()
		ids := w.dayIDs(t, "acme", "2026-12-02")
		require.Len(t, ids, 40)
		require.Equal(t, "er_c00", ids[0])
	})
}

func TestLedgerSeal_R_ERASE_9(t *testing.T) {
	ctx := t.Context()
	w := newLedgerWorld(t)
	day1 := time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
	w.clock.Set(day1)
	require.NoError(t, w.svc.Append(ctx, ledgerRecord("acme", "er_2", day1), ledgerRecord("acme", "er_1", day1),
		ledgerRecord("other", "er_9", day1)))
	w.clock.Set(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)) // nothing on the 2nd
	require.NoError(t, w.svc.Append(ctx, ledgerRecord("acme", "er_3", w.clock.Now())))

	t.Run("a day is sealed only an hour after it ends", func(t *testing.T) {
		require.NoError(t, w.svc.Seal(ctx, time.Date(2026, 12, 2, 0, 59, 59, 0, time.UTC)))
		seals, err := w.svc.Seals(ctx, "acme")
		require.NoError(t, err)
		require.Empty(t, seals)
		require.NoError(t, w.svc.Seal(ctx, time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)))
		seals, err = w.svc.Seals(ctx, "acme")
		require.NoError(t, err)
		require.Len(t, seals, 1)
	})

	t.Run("every day is sealed, an empty one with the empty tree, each chained to the one before", func(t *testing.T) {
		require.NoError(t, w.svc.Seal(ctx, time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)))
		seals, err := w.svc.Seals(ctx, "acme")
		require.NoError(t, err)
		require.Len(t, seals, 3)
		e1, _ := w.store.LedgerEntry(ctx, "acme", "er_1")
		e2, _ := w.store.LedgerEntry(ctx, "acme", "er_2")
		e3, _ := w.store.LedgerEntry(ctx, "acme", "er_3")
		want := merkle.NodeHash(merkle.LeafHash(e1.Record), merkle.LeafHash(e2.Record)) // record-id order
		require.Equal(t, gdpr.LedgerSeal{BrandID: "acme", Day: "2026-12-01", Count: 2, Root: want.String(),
			Previous: gdpr.GenesisPrevious}, seals[0])
		require.Equal(t, gdpr.LedgerSeal{BrandID: "acme", Day: "2026-12-02", Count: 0, Root: merkle.EmptyRoot().String(),
			Previous: want.String()}, seals[1])
		require.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", seals[1].Root)
		require.Equal(t, merkle.LeafHash(e3.Record).String(), seals[2].Root)
		require.Equal(t, seals[1].Root, seals[2].Previous)
		other, err := w.svc.Seals(ctx, "other")
		require.NoError(t, err)
		require.Len(t, other, 3, "each brand has its own chain")
		require.Equal(t, gdpr.GenesisPrevious, other[0].Previous)
		require.Equal(t, 1, other[0].Count)
	})

	t.Run("sealing again, or concurrently, changes nothing", func(t *testing.T) {
		before, err := w.svc.Seals(ctx, "acme")
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() { require.NoError(t, w.svc.Seal(ctx, time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC))) })
		}
		wg.Wait()
		after, err := w.svc.Seals(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, before, after)
	})

	t.Run("a record that lands in a sealed day is refused, not hidden", func(t *testing.T) {
		// An append that stopped between its two writes for longer than SealDelay.
		late := ledgerRecord("acme", "er_0", day1)
		data, err := json.Marshal(late)
		require.NoError(t, err)
		_, err = w.store.ClaimLedgerEntry(ctx, gdpr.LedgerEntry{BrandID: "acme", RecordID: "er_0", Day: "2026-12-01", Record: data})
		require.NoError(t, err)
		require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(w.svc.Append(ctx, late)))
		require.Equal(t, []string{"er_1", "er_2"}, w.dayIDs(t, "acme", "2026-12-01"), "the sealed day is left as sealed")
		require.NoError(t, w.svc.Append(ctx, ledgerRecord("acme", "er_1", day1)), "a sealed record appended again")
	})
}

func TestLedgerProof_R_ERASE_9(t *testing.T) {
	ctx := t.Context()
	w := newLedgerWorld(t)
	var recs []gdpr.ErasureRecord
	for i := range 13 {
		recs = append(recs, ledgerRecord("acme", fmt.Sprintf("er_%02d", i), w.clock.Now()))
	}
	require.NoError(t, w.svc.Append(ctx, recs...))

	_, err := w.svc.Proof(ctx, "acme", "er_05")
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), "no proof before the day is sealed")
	require.NoError(t, w.svc.Seal(ctx, time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)))

	for _, id := range []string{"er_00", "er_05", "er_12"} {
		p, err := w.svc.Proof(ctx, "acme", id)
		require.NoError(t, err)
		require.Equal(t, id, p.RecordID)
		require.Equal(t, 13, p.Count)
		// What an auditor does: hash the record shown, climb the path, compare with the seal.
		leaf := merkle.LeafHash(p.Record)
		require.Equal(t, leaf.String(), p.LeafHash)
		path := make([]merkle.Hash, len(p.Path))
		for i, h := range p.Path {
			path[i], err = merkle.ParseHash(h)
			require.NoError(t, err)
		}
		root, err := merkle.ParseHash(p.Root)
		require.NoError(t, err)
		require.NoError(t, merkle.VerifyInclusion(leaf, uint64(p.Index), uint64(p.Count), path, root))
		seals, err := w.svc.Seals(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, seals[0].Root, p.Root)
		var shown gdpr.ErasureRecord
		require.NoError(t, json.Unmarshal(p.Record, &shown))
		require.Equal(t, id, shown.ID, "the proof shows this record, and no other")
	}
	_, err = w.svc.Proof(ctx, "acme", "er_99")
	require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err))
	_, err = w.svc.Proof(ctx, "other", "er_05")
	require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err), "brands stay apart")
	_, err = w.svc.Proof(ctx, "nobody", "er_05")
	require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err))
}

func TestLedgerExport(t *testing.T) {
	ctx := t.Context()
	w := newLedgerWorld(t)
	require.NoError(t, w.svc.Append(ctx, ledgerRecord("acme", "er_b", w.clock.Now()), ledgerRecord("acme", "er_a", w.clock.Now())))
	require.NoError(t, w.svc.Seal(ctx, time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)))
	w.clock.Set(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	require.NoError(t, w.svc.Append(ctx, ledgerRecord("acme", "er_c", w.clock.Now())))

	var buf bytes.Buffer
	require.NoError(t, w.svc.Export(ctx, "acme", &buf))
	var kinds []string
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l gdpr.ExportLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		kinds = append(kinds, l.Type+" "+l.Day)
	}
	require.Equal(t, []string{"ledger ", "entry 2026-12-01", "entry 2026-12-01", "seal 2026-12-01", "entry 2026-12-02"}, kinds,
		"day by day, each day's seal after its entries; the unsealed day last")
}
