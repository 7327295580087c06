// Package ledgerstore keeps the erasure ledger (gdpr.LedgerStore) in blobs that are only ever
// created, never replaced or deleted: an Azure container with a time-based immutability
// policy, or a folder in local mode. Outside the database, the ledger survives its restore.
//
// Keys, per brand:
//
//	ledger/<brand>/records/<recordId>.json     the entry: its day and the record's bytes
//	ledger/<brand>/days/<day>/<recordId>.json  the same bytes, listed under its day
//	ledger/<brand>/seals/<day>.json            a day's seal
//	ledger/<brand>/leaves/<day>.json           the seal's leaf hashes, in order
//
// The entry under the record's id is written first and fixes its day: an append repeated
// after midnight finds it and lists the record under the same day. Both keys hold the same
// bytes; in a folder the day's is a hard link to the record's file. A seal's leaves are
// written before the seal, which is what makes a day sealed.
package ledgerstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
)

var _ gdpr.LedgerStore = (*Store)(nil)

// Store is the ledger over create-only blobs.
type Store struct {
	blobs blobstore.CreateOnly
}

// New keeps the ledger in blobs.
func New(blobs blobstore.CreateOnly) *Store { return &Store{blobs: blobs} }

const contentType = "application/json"

// entry is the stored form of a gdpr.LedgerEntry. Record keeps the exact bytes it was given
// (encoding/json copies a RawMessage as it is, compacted: the record's canonical JSON is).
type entry struct {
	BrandID  gdpr.BrandID    `json:"brandId"`
	RecordID string          `json:"recordId"`
	Day      string          `json:"day"`
	Record   json.RawMessage `json:"record"`
}

func brandPrefix(brand gdpr.BrandID) string { return "ledger/" + string(brand) + "/" }

func recordKey(brand gdpr.BrandID, id string) string {
	return brandPrefix(brand) + "records/" + id + ".json"
}

func dayPrefix(brand gdpr.BrandID, day string) string {
	return brandPrefix(brand) + "days/" + day + "/"
}

func sealKey(brand gdpr.BrandID, day string) string {
	return brandPrefix(brand) + "seals/" + day + ".json"
}

func leavesKey(brand gdpr.BrandID, day string) string {
	return brandPrefix(brand) + "leaves/" + day + ".json"
}

func encodeEntry(e gdpr.LedgerEntry) ([]byte, error) {
	return json.Marshal(entry{BrandID: e.BrandID, RecordID: e.RecordID, Day: e.Day, Record: e.Record})
}

func decodeEntry(data []byte) (gdpr.LedgerEntry, error) {
	var e entry
	if err := json.Unmarshal(data, &e); err != nil {
		return gdpr.LedgerEntry{}, fmt.Errorf("ledgerstore: a stored entry does not decode: %w", err)
	}
	return gdpr.LedgerEntry{BrandID: e.BrandID, RecordID: e.RecordID, Day: e.Day, Record: []byte(e.Record)}, nil
}

// createOrSame creates a blob, and succeeds too when the blob holds these very bytes: a
// create repeated after a crash or by a concurrent writer is no conflict. A store that links
// (the folder) makes the blob a second name of sameAs's when that holds these bytes, which
// is what a day entry is of its record's entry: the same bytes, written once.
func (s *Store) createOrSame(ctx context.Context, key, sameAs string, data []byte) error {
	var err error
	if l, ok := s.blobs.(blobstore.Linker); ok && sameAs != "" {
		err = l.CreateLinked(ctx, key, data, contentType, sameAs)
	} else {
		err = s.blobs.Create(ctx, key, data, contentType)
	}
	if !errors.Is(err, blobstore.ErrExists) {
		return err
	}
	stored, err := s.blobs.Get(ctx, key)
	if err != nil {
		return err
	}
	if !bytes.Equal(stored, data) {
		return fmt.Errorf("ledgerstore: another blob is stored under the key: %w", gdpr.ErrConflict)
	}
	return nil
}

func (s *Store) ClaimLedgerEntry(ctx context.Context, e gdpr.LedgerEntry) (gdpr.LedgerEntry, error) {
	data, err := encodeEntry(e)
	if err != nil {
		return gdpr.LedgerEntry{}, err
	}
	key := recordKey(e.BrandID, e.RecordID)
	err = s.blobs.Create(ctx, key, data, contentType)
	if err == nil {
		return e, nil
	}
	if !errors.Is(err, blobstore.ErrExists) {
		return gdpr.LedgerEntry{}, err
	}
	return s.LedgerEntry(ctx, e.BrandID, e.RecordID)
}

func (s *Store) AddLedgerDayEntry(ctx context.Context, e gdpr.LedgerEntry) error {
	data, err := encodeEntry(e)
	if err != nil {
		return err
	}
	return s.createOrSame(ctx, dayPrefix(e.BrandID, e.Day)+e.RecordID+".json", recordKey(e.BrandID, e.RecordID), data)
}

func (s *Store) LedgerEntry(ctx context.Context, brand gdpr.BrandID, recordID string) (gdpr.LedgerEntry, error) {
	data, err := s.get(ctx, recordKey(brand, recordID))
	if err != nil {
		return gdpr.LedgerEntry{}, err
	}
	return decodeEntry(data)
}

// get reads a blob, a missing one being gdpr.ErrNotFound.
func (s *Store) get(ctx context.Context, key string) ([]byte, error) {
	data, err := s.blobs.Get(ctx, key)
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, gdpr.ErrNotFound
	}
	return data, err
}

func (s *Store) LedgerDays(ctx context.Context, brand gdpr.BrandID) ([]string, error) {
	days, err := s.blobs.ListDirs(ctx, brandPrefix(brand)+"days/")
	slices.Sort(days)
	return days, err
}

// LedgerDayEntries lists the day's keys, then reads the entries one at a time. Keys sort by
// "<id>.json", which is not id order when an id holds a character below '.' ('-'): the ids
// are sorted themselves.
func (s *Store) LedgerDayEntries(ctx context.Context, brand gdpr.BrandID, day string) iter.Seq2[gdpr.LedgerEntry, error] {
	return func(yield func(gdpr.LedgerEntry, error) bool) {
		prefix := dayPrefix(brand, day)
		ids, err := s.LedgerDayRecordIDs(ctx, brand, day)
		if err != nil {
			yield(gdpr.LedgerEntry{}, err)
			return
		}
		for _, id := range ids {
			data, err := s.blobs.Get(ctx, prefix+id+".json")
			if err != nil {
				yield(gdpr.LedgerEntry{}, err)
				return
			}
			e, err := decodeEntry(data)
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// LedgerDayRecordIDs lists the day's keys: the record ids are their names.
func (s *Store) LedgerDayRecordIDs(ctx context.Context, brand gdpr.BrandID, day string) ([]string, error) {
	prefix := dayPrefix(brand, day)
	keys, err := s.blobs.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(k, prefix), ".json"))
	}
	slices.Sort(ids)
	return ids, nil
}

// PutLedgerSeal writes the leaves, then the seal: a seal is never stored without its leaves.
func (s *Store) PutLedgerSeal(ctx context.Context, seal gdpr.LedgerSeal) error {
	leaves := seal.Leaves
	if leaves == nil {
		leaves = []string{}
	}
	data, err := json.Marshal(leaves)
	if err != nil {
		return err
	}
	if err := s.createOrSame(ctx, leavesKey(seal.BrandID, seal.Day), "", data); err != nil {
		return err
	}
	seal.Leaves = nil
	if data, err = json.Marshal(seal); err != nil {
		return err
	}
	return s.createOrSame(ctx, sealKey(seal.BrandID, seal.Day), "", data)
}

// sealReads bounds the seals read at once when listing them.
const sealReads = 8

func (s *Store) LedgerSeals(ctx context.Context, brand gdpr.BrandID) ([]gdpr.LedgerSeal, error) {
	prefix := brandPrefix(brand) + "seals/"
	keys, err := s.blobs.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	seals := make([]gdpr.LedgerSeal, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	sem := make(chan struct{}, sealReads)
	for i, k := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			seals[i], errs[i] = s.LedgerSeal(ctx, brand, strings.TrimSuffix(strings.TrimPrefix(k, prefix), ".json"))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(seals, func(a, b gdpr.LedgerSeal) int { return strings.Compare(a.Day, b.Day) })
	return seals, nil
}

func (s *Store) LedgerSeal(ctx context.Context, brand gdpr.BrandID, day string) (gdpr.LedgerSeal, error) {
	data, err := s.get(ctx, sealKey(brand, day))
	if err != nil {
		return gdpr.LedgerSeal{}, err
	}
	var seal gdpr.LedgerSeal
	if err := json.Unmarshal(data, &seal); err != nil {
		return gdpr.LedgerSeal{}, fmt.Errorf("ledgerstore: a stored seal does not decode: %w", err)
	}
	seal.Leaves = nil
	return seal, nil
}

func (s *Store) LedgerLeaves(ctx context.Context, brand gdpr.BrandID, day string) ([]string, error) {
	data, err := s.get(ctx, leavesKey(brand, day))
	if err != nil {
		return nil, err
	}
	var leaves []string
	if err := json.Unmarshal(data, &leaves); err != nil {
		return nil, fmt.Errorf("ledgerstore: stored leaves do not decode: %w", err)
	}
	return leaves, nil
}
