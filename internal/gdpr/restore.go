package gdpr

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// A restore never brings an erased person back (R-ERASE-9). The ledger lives outside the
// database, so after the database is restored from a backup (Cosmos DB's point-in-time
// restore, an older copy of the SQLite file) it still holds every erasure recorded since, and
// the audit trail of the restored store lacks them. That is how a restored store is told:
//
//   - Check, at start, reads per brand the ledger's newest day and asks the audit trail which
//     of its records it holds; one missing means the store is behind the ledger. It then walks
//     back a day at a time to the first day with records missing, and writes a marker into
//     the store (a claim under the brand, RestoreMarkerKey, owned by that day), so that every
//     instance, and this one after a crash, knows until the replay is done. Its cost at start
//     is, per brand, the listing of the ledger's days, one day's entries and one lookup of
//     their ids; more days only for a store actually behind.
//   - While any brand is marked, the service does not serve (the HTTP layer answers 503).
//   - Replay applies again, brand by brand from the marked day on, every record of the
//     ledger: first the record into the audit trail exactly as the ledger holds it, then its
//     erasure to the subject by the one erasure procedure (erase.go, reapply), which skips a
//     subject already erased under it. Every step is idempotent, and the marker is removed
//     only once all of a brand's records are applied: a replay stopped at any point is
//     simply run again.

// RestoreMarkerKey is the claim key of a brand's marker: its owner is the first ledger day
// to replay.
const RestoreMarkerKey = "restore:replay"

// RestoreDeps are the ports of the RestoreService.
type RestoreDeps struct {
	Audit   ErasureAudit
	Claims  ClaimStore  // the markers
	Ledger  LedgerStore // read only
	Erasure *ErasureService
}

// RestoreService tells a restored store and replays the erasures it lost.
type RestoreService struct {
	core
	audit   ErasureAudit
	claims  ClaimStore
	ledger  LedgerStore
	erasure *ErasureService

	replaying sync.Mutex // one replay at a time in this process; across them, idempotence
	mu        sync.Mutex
	pending   map[BrandID]string // brand → first day to replay, as last read
	readAt    time.Time          // when pending was last read from the markers (wall clock)
}

// NewRestoreService checks its dependencies.
func NewRestoreService(c Core, d RestoreDeps) (*RestoreService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("RestoreService", map[string]bool{"Audit": d.Audit != nil, "Claims": d.Claims != nil,
			"Ledger": d.Ledger != nil, "Erasure": d.Erasure != nil})
	}
	if err != nil {
		return nil, err
	}
	return &RestoreService{core: cc, audit: d.Audit, claims: d.Claims, ledger: d.Ledger, erasure: d.Erasure,
		pending: map[BrandID]string{}}, nil
}

// RestoreStatus is a brand's state: whether a replay is pending, and from which ledger day.
type RestoreStatus struct {
	BrandID BrandID `json:"brandId"`
	Pending bool    `json:"pending"`
	From    string  `json:"from,omitempty"`
}

// ReplayReport is what a replay did for a brand: the ledger records it walked from the day
// From on, and among them those the audit trail lacked (Restored), now written back.
type ReplayReport struct {
	BrandID  BrandID `json:"brandId"`
	From     string  `json:"from"`
	Records  int     `json:"records"`
	Restored int     `json:"restored"`
}

// Check marks every brand whose store is behind the ledger, and reads the markers left by
// an earlier start or another instance. It answers the brands pending.
func (s *RestoreService) Check(ctx context.Context) ([]RestoreStatus, error) {
	brands, err := s.brands.ListBrands(ctx)
	if err != nil {
		return nil, err
	}
	var out []RestoreStatus
	read := map[BrandID]string{}
	for _, b := range brands {
		from, err := s.marked(ctx, b.ID)
		if err == nil && from == "" {
			if from, err = s.behind(ctx, b.ID); err == nil && from != "" {
				from, err = s.mark(ctx, b.ID, from)
			}
		}
		if err != nil {
			return nil, err
		}
		if from != "" {
			read[b.ID] = from
			out = append(out, RestoreStatus{BrandID: b.ID, Pending: true, From: from})
			s.log.WarnContext(ctx, "restored store: erasures to replay", "brand", b.ID, "from", from)
		}
	}
	s.mu.Lock()
	s.pending, s.readAt = read, time.Now()
	s.mu.Unlock()
	return out, nil
}

// markerRecheck is how long an instance trusts its reading of the markers while some are
// set: another instance's replay clears them, and this one sees it within that time.
const markerRecheck = 10 * time.Second

// Pending reports whether a replay is pending for any brand. While one is, the markers are
// read again every markerRecheck, so a replay run by another instance frees this one too.
func (s *RestoreService) Pending(ctx context.Context) bool {
	s.mu.Lock()
	n, stale := len(s.pending), time.Since(s.readAt) > markerRecheck
	brands := make([]BrandID, 0, n)
	for b := range s.pending {
		brands = append(brands, b)
	}
	if n > 0 && stale {
		s.readAt = time.Now() // one reader at a time; the others answer from what was read
	}
	s.mu.Unlock()
	if n == 0 || !stale {
		return n > 0
	}
	still := map[BrandID]string{}
	for _, b := range brands {
		from, err := s.marked(ctx, b)
		if err != nil {
			return true // unknown: stay closed
		}
		if from != "" {
			still[b] = from
		}
	}
	s.mu.Lock()
	s.pending = still
	s.mu.Unlock()
	return len(still) > 0
}

// Status reads every brand's marker.
func (s *RestoreService) Status(ctx context.Context) ([]RestoreStatus, error) {
	brands, err := s.brands.ListBrands(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RestoreStatus, 0, len(brands))
	read := map[BrandID]string{}
	for _, b := range brands {
		from, err := s.marked(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		if from != "" {
			read[b.ID] = from
		}
		out = append(out, RestoreStatus{BrandID: b.ID, Pending: from != "", From: from})
	}
	s.mu.Lock()
	s.pending, s.readAt = read, time.Now()
	s.mu.Unlock()
	return out, nil
}

// Replay applies again, for every brand marked or found behind the ledger, the ledger's
// records from its first missing day on, then removes its marker. Repeating it changes
// nothing; a replay that failed part way is run again.
func (s *RestoreService) Replay(ctx context.Context) ([]ReplayReport, error) {
	s.replaying.Lock()
	defer s.replaying.Unlock()
	brands, err := s.brands.ListBrands(ctx)
	if err != nil {
		return nil, err
	}
	out := []ReplayReport{}
	for _, b := range brands {
		from, err := s.marked(ctx, b.ID)
		if err == nil && from == "" {
			if from, err = s.behind(ctx, b.ID); err == nil && from != "" {
				from, err = s.mark(ctx, b.ID, from) // first: a replay that stops is resumed from it
			}
		}
		if err != nil {
			return out, err
		}
		if from == "" {
			continue
		}
		report, err := s.replayBrand(ctx, b.ID, from)
		if err != nil {
			return out, err
		}
		out = append(out, report)
		// Released only if still owned by this day: a check that found an earlier one meanwhile
		// keeps the brand marked, for another replay.
		if err := s.claims.ReleaseClaims(ctx, b.ID, Claim{BrandID: b.ID, Key: RestoreMarkerKey, Owner: from}); err != nil {
			return out, err
		}
		left, err := s.marked(ctx, b.ID)
		if err != nil {
			return out, err
		}
		s.mu.Lock()
		if left == "" {
			delete(s.pending, b.ID)
		} else {
			s.pending[b.ID] = left
		}
		s.mu.Unlock()
		s.log.InfoContext(ctx, "restored store: erasures replayed", "brand", b.ID, "from", from,
			"records", report.Records, "restored", report.Restored)
	}
	return out, nil
}

// replayBrand applies the brand's ledger records from the day from on, a day at a time in
// record-id order (the order of their requests).
func (s *RestoreService) replayBrand(ctx context.Context, brand BrandID, from string) (ReplayReport, error) {
	report := ReplayReport{BrandID: brand, From: from}
	days, err := s.ledger.LedgerDays(ctx, brand)
	if err != nil {
		return report, err
	}
	for _, day := range days {
		if day < from {
			continue
		}
		records, err := s.dayRecords(ctx, brand, day)
		if err != nil {
			return report, err
		}
		for chunk := range slices.Chunk(records, MaxBatch) {
			restored, err := s.restoreRecords(ctx, brand, chunk)
			if err != nil {
				return report, err
			}
			if err := s.erasure.reapply(ctx, brand, chunk); err != nil {
				return report, err
			}
			report.Records, report.Restored = report.Records+len(chunk), report.Restored+restored
		}
	}
	return report, nil
}

// restoreRecords writes into the audit trail those of the records it lacks, as the ledger
// holds them, and counts them.
func (s *RestoreService) restoreRecords(ctx context.Context, brand BrandID, records []ErasureRecord) (int, error) {
	held, err := s.audit.FindErasures(ctx, brand, recordIDs(records))
	if err != nil {
		return 0, err
	}
	var lacking []ErasureRecord
	for _, r := range records {
		if _, ok := slices.BinarySearch(held, r.ID); !ok {
			lacking = append(lacking, r)
		}
	}
	if len(lacking) == 0 {
		return 0, nil
	}
	if _, err := s.audit.PutErasures(ctx, brand, lacking); err != nil {
		return 0, err
	}
	return len(lacking), nil
}

// dayRecords decodes a ledger day's records. Each must encode back to the ledger's very
// bytes: the erasure's last step appends it again, and the ledger takes only the same bytes.
func (s *RestoreService) dayRecords(ctx context.Context, brand BrandID, day string) ([]ErasureRecord, error) {
	var out []ErasureRecord
	for e, err := range s.ledger.LedgerDayEntries(ctx, brand, day) {
		if err != nil {
			return nil, err
		}
		r, err := decodeLedgerRecord(e)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// decodeLedgerRecord reads the erasure record of a ledger entry, and refuses one that is not
// its entry's canonical record of its brand.
func decodeLedgerRecord(e LedgerEntry) (ErasureRecord, error) {
	var r ErasureRecord
	if err := json.Unmarshal(e.Record, &r); err != nil {
		return ErasureRecord{}, &Error{Code: CodeInternal, Message: "a ledger entry holds no erasure record", Err: err}
	}
	again, err := canonicalRecord(r)
	if err != nil {
		return ErasureRecord{}, err
	}
	if string(again) != string(e.Record) || r.BrandID != e.BrandID || r.ID != e.RecordID || !r.BrandID.Valid() ||
		!ledgerRecordID(r.ID) || r.SubjectID == "" {
		return ErasureRecord{}, Errorf(CodeInternal, "a ledger entry is not the canonical record of its id")
	}
	return r, nil
}

// behind answers the first ledger day whose records the audit trail lacks, walking back from
// the newest day while each has some missing; "" when the newest day is whole.
func (s *RestoreService) behind(ctx context.Context, brand BrandID) (string, error) {
	days, err := s.ledger.LedgerDays(ctx, brand)
	if err != nil {
		return "", err
	}
	from := ""
	for _, day := range slices.Backward(days) {
		ids, err := s.ledger.LedgerDayRecordIDs(ctx, brand, day)
		if err != nil {
			return "", err
		}
		held, err := s.audit.FindErasures(ctx, brand, ids)
		if err != nil {
			return "", err
		}
		if len(held) == len(ids) {
			break
		}
		from = day
	}
	return from, nil
}

// marked reads a brand's marker: the day to replay from, "" when there is none.
func (s *RestoreService) marked(ctx context.Context, brand BrandID) (string, error) {
	c, err := s.claims.GetClaim(ctx, brand, RestoreMarkerKey)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return c.Owner, err
}

// mark sets a brand's marker to day, or keeps the one set if it is earlier, and answers the
// day marked.
func (s *RestoreService) mark(ctx context.Context, brand BrandID, day string) (string, error) {
	var marked string
	err := retry(ctx, func() error {
		held, err := s.claims.Claim(ctx, Claim{BrandID: brand, Key: RestoreMarkerKey, Owner: day, CreatedAt: s.clock.Now()})
		switch {
		case err == nil:
			marked = day
			return nil
		case !errors.Is(err, ErrConflict):
			return err
		case held.Owner <= day:
			marked = held.Owner
			return nil
		}
		held.Owner = day
		if _, err := s.claims.ReplaceClaim(ctx, held); errors.Is(err, ErrNotFound) {
			return ErrConflict // released meanwhile: claim it afresh
		} else if err != nil {
			return err
		}
		marked = day
		return nil
	})
	if err == nil {
		s.mu.Lock()
		s.pending[brand] = marked
		s.mu.Unlock()
	}
	return marked, err
}

func recordIDs(records []ErasureRecord) []string {
	ids := make([]string, len(records))
	for i, r := range records {
		ids[i] = r.ID
	}
	return ids
}
