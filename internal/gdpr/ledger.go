package gdpr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"popsell-gdpr/internal/merkle"
)

// The erasure ledger (R-ERASE-9): every erasure record is also written, create-only, to a
// store outside the database (a blob container with a time-based immutability policy in
// Azure, a folder in local mode), so the proof of an erasure survives a database restore, and
// a restored database can replay the erasures recorded after its backup. Each finished day of
// a brand is sealed as an RFC 6962 Merkle tree over that day's records in record-id order,
// its root chained to the brand's previous seal: changing, removing, reordering or adding a
// record or a seal afterwards breaks a root or the chain, and an auditor checks one record
// with its inclusion proof without seeing any other.
//
// Choices:
//   - A record's day is the UTC day of the service clock at its first append; the entry keyed
//     by the record's id is written first and fixes that day, so a repeated append (a retried
//     erasure) lands in the same day even after midnight.
//   - A day is sealed once it ended SealDelay ago: an append that read the clock just before
//     midnight writes its day entry a moment later, and the delay lets it land first.
//   - Every day from a brand's first record on is sealed, an empty one with count 0 and the
//     empty tree's root, SHA-256 of nothing: the seals then run without a gap, so a seal
//     removed from the middle or a day's records removed whole are seen, and an empty seal
//     says "no erasure that day" rather than leaving the day unaccounted for.
//   - The first seal's previous is 64 zeros (GenesisPrevious).
//   - A seal keeps its day's leaf hashes in order: they are hashes of records that hold no
//     personal data, and they let a verifier name the one record that was changed, removed
//     or inserted instead of only the day.

// SealDelay is how long after a day's end it is sealed.
const SealDelay = time.Hour

// GenesisPrevious is the previous root of a brand's first seal.
var GenesisPrevious = merkle.Hash{}.String()

// LedgerDayLayout formats a ledger day (UTC).
const LedgerDayLayout = "2006-01-02"

// LedgerEntry is one erasure record as the ledger keeps it: Record holds the exact bytes its
// leaf hash is computed over (the record's canonical JSON).
type LedgerEntry struct {
	BrandID  BrandID
	RecordID string
	Day      string // LedgerDayLayout, UTC
	Record   []byte
}

// LedgerSeal is a sealed day of a brand's ledger.
type LedgerSeal struct {
	BrandID  BrandID `json:"brandId"`
	Day      string  `json:"day"`
	Count    int     `json:"count"`
	Root     string  `json:"root"`     // hex SHA-256
	Previous string  `json:"previous"` // the root of the brand's previous seal, GenesisPrevious for the first
	// Leaves are the day's leaf hashes in record-id order; lists of seals leave them out.
	Leaves []string `json:"leaves,omitempty"`
}

// LedgerService appends erasure records to the ledger, seals its days, and answers proofs.
type LedgerService struct {
	core
	store LedgerStore
}

// NewLedgerService builds the ledger over its store.
func NewLedgerService(c Core, store LedgerStore) (*LedgerService, error) {
	cc, err := c.check()
	if err != nil {
		return nil, err
	}
	if err := missing("LedgerService", map[string]bool{"store": store != nil}); err != nil {
		return nil, err
	}
	return &LedgerService{core: cc, store: store}, nil
}

// ledgerRecordID: record ids become blob names, so they are held to a safe alphabet; erasure
// ids ("er_<hex>_<hex>") are well inside it.
func ledgerRecordID(s string) bool { return safeID(s, 128) }

// appendConcurrency bounds the writes of one Append call running at once: each record is two
// create-only writes, which a blob store serves in parallel.
const appendConcurrency = 8

// Append adds erasure records to the ledger, each idempotently: the same record again is
// success (it keeps its first day); another record under an id already in the ledger is
// ErrConflict, since ledger entries never change. Callers append the record as stored in the
// audit trail, so a repeated erasure appends the same bytes.
func (s *LedgerService) Append(ctx context.Context, records ...ErasureRecord) error {
	if len(records) == 1 {
		return s.append(ctx, records[0])
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, appendConcurrency)
	)
	for _, r := range records {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.append(ctx, r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *LedgerService) append(ctx context.Context, r ErasureRecord) error {
	if !r.BrandID.Valid() || !ledgerRecordID(r.ID) {
		return Errorf(CodeInvalid, "an erasure record needs a brand and an id of letters, digits, _ and -")
	}
	data, err := canonicalRecord(r)
	if err != nil {
		return err
	}
	e := LedgerEntry{BrandID: r.BrandID, RecordID: r.ID, Day: s.clock.Now().UTC().Format(LedgerDayLayout), Record: data}
	stored, err := s.store.ClaimLedgerEntry(ctx, e)
	if err != nil {
		return fmt.Errorf("ledger: claim: %w", err)
	}
	if string(stored.Record) != string(data) {
		return &Error{Code: CodeConflict, Message: "the ledger holds another record under this id", Err: ErrConflict}
	}
	// A day is sealed only SealDelay after it ended; finding it sealed here means this append
	// stopped between its two writes for longer than that, and its day can no longer take it.
	// Before then no sealer can have sealed it: nothing to read.
	if !sealable(stored.Day, s.clock.Now()) {
		return s.addToDay(ctx, stored)
	}
	switch _, err := s.store.LedgerSeal(ctx, stored.BrandID, stored.Day); {
	case err == nil:
		return s.checkSealedIn(ctx, stored)
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("ledger: seal: %w", err)
	}
	return s.addToDay(ctx, stored)
}

// addToDay lists a claimed entry under its day.
func (s *LedgerService) addToDay(ctx context.Context, e LedgerEntry) error {
	if err := s.store.AddLedgerDayEntry(ctx, e); err != nil {
		return fmt.Errorf("ledger: day entry: %w", err)
	}
	return nil
}

// sealable reports a day that a sealer may have sealed by now: one that ended SealDelay ago.
func sealable(day string, now time.Time) bool {
	d, err := time.Parse(LedgerDayLayout, day)
	return err != nil || !d.AddDate(0, 0, 1).Add(SealDelay).After(now)
}

// checkSealedIn succeeds when a record appended again is in its day's seal, and reports it
// when the day was sealed without it.
func (s *LedgerService) checkSealedIn(ctx context.Context, e LedgerEntry) error {
	leaves, err := s.store.LedgerLeaves(ctx, e.BrandID, e.Day)
	if err != nil {
		return fmt.Errorf("ledger: leaves: %w", err)
	}
	if slices.Contains(leaves, merkle.LeafHash(e.Record).String()) {
		return nil
	}
	s.log.ErrorContext(ctx, "ledger: an erasure record's day was sealed before it landed", "brand", e.BrandID,
		"record", e.RecordID, "day", e.Day)
	return Errorf(CodeConflict, "the record's ledger day was sealed without it")
}

// canonicalRecord is the JSON an erasure record is hashed as: encoding/json's bytes of the
// record with its times in UTC and absent field lists as empty ones, so the same record
// encodes the same whichever store it was read back from.
func canonicalRecord(r ErasureRecord) ([]byte, error) {
	for _, t := range []*time.Time{&r.RequestedAt, &r.DueAt, &r.DoneAt} {
		*t = t.UTC()
	}
	if r.FieldsErased == nil {
		r.FieldsErased = []string{}
	}
	if r.FieldsHashed == nil {
		r.FieldsHashed = []string{}
	}
	return json.Marshal(r)
}

// Seal seals, for every brand, each day not sealed yet that ended at least SealDelay before
// now, from the brand's first record on. It goes on with the other brands when one fails.
func (s *LedgerService) Seal(ctx context.Context, now time.Time) error {
	brands, err := s.brands.ListBrands(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range brands {
		if err := s.sealBrand(ctx, b.ID, now); err != nil {
			s.log.ErrorContext(ctx, "ledger: sealing failed", "brand", b.ID, "code", string(ErrorCode(err)))
			errs = append(errs, fmt.Errorf("brand %s: %w", b.ID, err))
		}
	}
	return errors.Join(errs...)
}

// SealDue is Seal at the service clock's now: the daily LedgerSeal timer.
func (s *LedgerService) SealDue(ctx context.Context) error { return s.Seal(ctx, s.clock.Now()) }

func (s *LedgerService) sealBrand(ctx context.Context, brand BrandID, now time.Time) error {
	seals, err := s.store.LedgerSeals(ctx, brand)
	if err != nil {
		return err
	}
	previous := GenesisPrevious
	var day time.Time
	if len(seals) > 0 {
		last := seals[len(seals)-1]
		if day, err = time.Parse(LedgerDayLayout, last.Day); err != nil {
			return Errorf(CodeInternal, "a stored seal has a malformed day")
		}
		day, previous = day.AddDate(0, 0, 1), last.Root
	} else {
		days, err := s.store.LedgerDays(ctx, brand)
		if err != nil || len(days) == 0 {
			return err
		}
		if day, err = time.Parse(LedgerDayLayout, days[0]); err != nil {
			return Errorf(CodeInternal, "a stored ledger day is malformed")
		}
	}
	for ; !day.AddDate(0, 0, 1).Add(SealDelay).After(now); day = day.AddDate(0, 0, 1) {
		seal, err := s.sealDay(ctx, brand, day.Format(LedgerDayLayout), previous)
		if err != nil {
			return err
		}
		if err := s.store.PutLedgerSeal(ctx, seal); err != nil {
			return fmt.Errorf("ledger: seal %s: %w", seal.Day, err)
		}
		previous = seal.Root
	}
	return nil
}

// sealDay builds a day's seal, streaming its entries: the root needs O(log n) hashes, the
// seal's list of leaves one hash per record.
func (s *LedgerService) sealDay(ctx context.Context, brand BrandID, day, previous string) (LedgerSeal, error) {
	var (
		tree   merkle.Builder
		leaves []string
		last   string
	)
	for e, err := range s.store.LedgerDayEntries(ctx, brand, day) {
		if err != nil {
			return LedgerSeal{}, err
		}
		if e.Day != day || (len(leaves) > 0 && e.RecordID <= last) {
			return LedgerSeal{}, Errorf(CodeInternal, "the ledger store listed a day's entries out of order")
		}
		leaf := merkle.LeafHash(e.Record)
		tree.Add(leaf)
		leaves = append(leaves, leaf.String())
		last = e.RecordID
	}
	return LedgerSeal{BrandID: brand, Day: day, Count: len(leaves), Root: tree.Root().String(), Previous: previous,
		Leaves: leaves}, nil
}

// Seals lists a brand's seals, oldest first.
func (s *LedgerService) Seals(ctx context.Context, brand BrandID) ([]LedgerSeal, error) {
	if _, err := s.brand(ctx, brand); err != nil {
		return nil, err
	}
	seals, err := s.store.LedgerSeals(ctx, brand)
	for i := range seals {
		seals[i].Leaves = nil
	}
	return seals, err
}

// LedgerProof shows that one erasure record is in its day's seal (RFC 6962 §2.1.1): hash
// Record as a leaf (SHA-256 of 0x00 then its bytes), combine it with Path as RFC 9162
// §2.1.3.2 says, and compare with Root, the seal's root.
type LedgerProof struct {
	RecordID string          `json:"recordId"`
	Day      string          `json:"day"`
	Index    int             `json:"index"`
	Count    int             `json:"count"`
	LeafHash string          `json:"leafHash"`
	Path     []string        `json:"path"`
	Root     string          `json:"root"`
	Record   json.RawMessage `json:"record"`
}

// Proof is the inclusion proof of one record. A record whose day is not sealed yet has none
// (CodeConflict); an unknown one is ErrNotFound.
func (s *LedgerService) Proof(ctx context.Context, brand BrandID, recordID string) (LedgerProof, error) {
	if _, err := s.brand(ctx, brand); err != nil {
		return LedgerProof{}, err
	}
	if !ledgerRecordID(recordID) {
		return LedgerProof{}, Errorf(CodeNotFound, "no such record in the ledger")
	}
	e, err := s.store.LedgerEntry(ctx, brand, recordID)
	if errors.Is(err, ErrNotFound) {
		return LedgerProof{}, Errorf(CodeNotFound, "no such record in the ledger")
	}
	if err != nil {
		return LedgerProof{}, err
	}
	seal, err := s.store.LedgerSeal(ctx, brand, e.Day)
	if errors.Is(err, ErrNotFound) {
		return LedgerProof{}, Errorf(CodeConflict, "the record's day is not sealed yet: a day is sealed an hour after it ends")
	}
	if err != nil {
		return LedgerProof{}, err
	}
	hexLeaves, err := s.store.LedgerLeaves(ctx, brand, e.Day)
	if err != nil {
		return LedgerProof{}, err
	}
	leaf := merkle.LeafHash(e.Record)
	leaves := make([]merkle.Hash, len(hexLeaves))
	index := -1
	for i, h := range hexLeaves {
		if leaves[i], err = merkle.ParseHash(h); err != nil {
			return LedgerProof{}, Errorf(CodeInternal, "a stored seal has a malformed leaf")
		}
		if leaves[i] == leaf {
			index = i
		}
	}
	if index < 0 {
		return LedgerProof{}, Errorf(CodeInternal, "the record is not in its day's seal")
	}
	path, err := merkle.InclusionProof(leaves, uint64(index))
	if err != nil {
		return LedgerProof{}, err
	}
	p := LedgerProof{RecordID: recordID, Day: e.Day, Index: index, Count: seal.Count, LeafHash: leaf.String(),
		Path: make([]string, len(path)), Root: seal.Root, Record: e.Record}
	for i, h := range path {
		p.Path[i] = h.String()
	}
	return p, nil
}

// LedgerExportFormat names the export's line format, which tools/ledgerverify reads.
const LedgerExportFormat = "popsell-ledger/1"

// ExportLine is one line of an export (JSON Lines): first a "ledger" line naming the brand
// and the format; then, day by day, the day's entries in record-id order ("entry", Record
// being the exact bytes hashed) followed by the day's seal ("seal", with its leaves) if the
// day is sealed.
type ExportLine struct {
	Type     string          `json:"type"` // "ledger", "entry" or "seal"
	Format   string          `json:"format,omitempty"`
	BrandID  BrandID         `json:"brandId,omitempty"`
	Day      string          `json:"day,omitempty"`
	Record   json.RawMessage `json:"record,omitempty"`
	Count    *int            `json:"count,omitempty"`
	Root     string          `json:"root,omitempty"`
	Previous string          `json:"previous,omitempty"`
	Leaves   []string        `json:"leaves,omitempty"`
}

// Export writes a brand's whole ledger to w as JSON Lines (ExportLine), streaming one day's
// entries at a time. Records carry no personal data, so neither does the export.
func (s *LedgerService) Export(ctx context.Context, brand BrandID, w io.Writer) error {
	if _, err := s.brand(ctx, brand); err != nil {
		return err
	}
	seals, err := s.store.LedgerSeals(ctx, brand)
	if err != nil {
		return err
	}
	days, err := s.store.LedgerDays(ctx, brand)
	if err != nil {
		return err
	}
	sealOf := map[string]LedgerSeal{}
	for _, sl := range seals {
		sealOf[sl.Day] = sl
		days = append(days, sl.Day)
	}
	slices.Sort(days)
	days = slices.Compact(days)

	enc := json.NewEncoder(w)
	if err := enc.Encode(ExportLine{Type: "ledger", Format: LedgerExportFormat, BrandID: brand}); err != nil {
		return err
	}
	for _, day := range days {
		for e, err := range s.store.LedgerDayEntries(ctx, brand, day) {
			if err != nil {
				return err
			}
			if err := enc.Encode(ExportLine{Type: "entry", Day: e.Day, Record: e.Record}); err != nil {
				return err
			}
		}
		sl, ok := sealOf[day]
		if !ok {
			continue
		}
		if sl.Leaves, err = s.store.LedgerLeaves(ctx, brand, day); err != nil {
			return err
		}
		count := sl.Count
		if err := enc.Encode(ExportLine{Type: "seal", Day: sl.Day, Count: &count, Root: sl.Root, Previous: sl.Previous,
			Leaves: sl.Leaves}); err != nil {
			return err
		}
	}
	return nil
}
