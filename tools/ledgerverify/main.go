// Command ledgerverify checks an export of a brand's erasure ledger offline:
//
//	curl -s -H "Authorization: Bearer $TOKEN" https://<app>/api/admin/brands/acme/ledger/export > acme.jsonl
//	go run ./tools/ledgerverify < acme.jsonl
//
// It recomputes each day's Merkle root (RFC 6962) from the day's records and from the leaf
// hashes the seal keeps, checks that the seals run day after day, each chained to the root of
// the one before, and names the first record or seal that was altered, removed, reordered or
// inserted. It prints days, positions and record ids only: records hold no personal data.
// Exit status: 0 verified, 1 tampering found, 2 the input is not a ledger export.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"popsell-gdpr/internal/merkle"
)

func main() {
	sum, err := verify(os.Stdin)
	var t *tampered
	switch {
	case errors.As(err, &t):
		fmt.Fprintln(os.Stdout, "TAMPERED:", t.Error())
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "ledgerverify:", err)
		os.Exit(2)
	}
	fmt.Println(sum)
}

// The export's line format (gdpr.ExportLine): a "ledger" line, then day by day the day's
// "entry" lines in record-id order and the day's "seal".
type line struct {
	Type     string          `json:"type"`
	Format   string          `json:"format"`
	BrandID  string          `json:"brandId"`
	Day      string          `json:"day"`
	Record   json.RawMessage `json:"record"`
	Count    *int            `json:"count"`
	Root     string          `json:"root"`
	Previous string          `json:"previous"`
	Leaves   []string        `json:"leaves"`
}

const format = "popsell-ledger/1"

// tampered is a finding: the export does not match its seals.
type tampered struct{ msg string }

func (t *tampered) Error() string { return t.msg }

func found(format string, args ...any) error { return &tampered{fmt.Sprintf(format, args...)} }

type entry struct {
	id   string
	day  string
	leaf merkle.Hash
}

type seal struct {
	day      string
	root     merkle.Hash
	previous merkle.Hash
}

// verifier walks the export once, holding one day's entries and leaves at a time.
type verifier struct {
	brand   string
	pending []entry // entries read since the last seal
	last    *seal   // the last seal read
	// gap is the day a seal was expected for when a later day's seal came instead: removed,
	// unless that day's records or seal turn up next (reordered).
	gap                            string
	seals, sealed, unsealed, lines int
	firstDay                       string
}

func verify(r io.Reader) (string, error) {
	dec := json.NewDecoder(r)
	v := &verifier{}
	for {
		var l line
		err := dec.Decode(&l)
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("line %d: not a JSON line of a ledger export", v.lines+1)
		}
		v.lines++
		if err := v.line(l); err != nil {
			return "", err
		}
	}
	if v.lines == 0 {
		return "", errors.New("empty input: not a ledger export")
	}
	if v.gap != "" {
		return "", found("seal of %s removed: the seal of the next day follows %s's", v.gap, v.dayBefore(v.gap))
	}
	for _, e := range v.pending {
		if v.last != nil && e.day <= v.last.day {
			return "", found("record %s inserted into sealed day %s", e.id, e.day)
		}
	}
	return fmt.Sprintf("verified: brand %s, %d seals (%s to %s), %d sealed records, %d records not sealed yet",
		v.brand, v.seals, v.firstDay, v.lastDay(), v.sealed, len(v.pending)), nil
}

func (v *verifier) lastDay() string {
	if v.last == nil {
		return "none"
	}
	return v.last.day
}

func (v *verifier) dayBefore(day string) string {
	d, _ := time.Parse(time.DateOnly, day)
	return d.AddDate(0, 0, -1).Format(time.DateOnly)
}

func (v *verifier) line(l line) error {
	if v.lines == 1 {
		if l.Type != "ledger" || l.Format != format || l.BrandID == "" {
			return fmt.Errorf("line 1: not a %s export", format)
		}
		v.brand = l.BrandID
		return nil
	}
	if _, err := time.Parse(time.DateOnly, l.Day); err != nil {
		return fmt.Errorf("line %d: no valid day", v.lines)
	}
	switch l.Type {
	case "entry":
		return v.entry(l)
	case "seal":
		return v.seal(l)
	}
	return fmt.Errorf("line %d: unknown line type", v.lines)
}

func (v *verifier) entry(l line) error {
	var rec struct {
		ID      string `json:"id"`
		BrandID string `json:"brandId"`
	}
	if len(l.Record) == 0 || json.Unmarshal(l.Record, &rec) != nil || rec.ID == "" {
		return found("line %d: a record of %s was altered: it is not an erasure record", v.lines, l.Day)
	}
	if rec.BrandID != v.brand {
		return found("record %s of %s inserted: it is another brand's", rec.ID, l.Day)
	}
	if v.gap != "" && l.Day <= v.gap {
		return found("reordered: day %s comes after the seal of %s", l.Day, v.last.day)
	}
	if v.last != nil && l.Day <= v.last.day {
		return found("record %s inserted into sealed day %s", rec.ID, l.Day)
	}
	if n := len(v.pending); n > 0 && l.Day < v.pending[n-1].day {
		return found("record %s reordered: its day %s is listed after %s", rec.ID, l.Day, v.pending[n-1].day)
	}
	v.pending = append(v.pending, entry{id: rec.ID, day: l.Day, leaf: merkle.LeafHash(l.Record)})
	return nil
}

func (v *verifier) seal(l line) error {
	s := seal{day: l.Day}
	var err error
	if s.root, err = merkle.ParseHash(l.Root); err != nil {
		return found("seal of %s altered: its root is not a hash", l.Day)
	}
	if s.previous, err = merkle.ParseHash(l.Previous); err != nil {
		return found("seal of %s altered: its previous root is not a hash", l.Day)
	}
	// Entries of earlier days still pending have no seal of their own while this later day has:
	// their day's seal was removed.
	for _, e := range v.pending {
		if e.day < l.Day && e.day != v.gap {
			return found("seal of %s removed: its records are listed, a later day is sealed", e.day)
		}
	}
	day := v.pending
	if err := v.chain(s); err != nil {
		return err
	}
	leaves := make([]merkle.Hash, len(l.Leaves))
	for i, h := range l.Leaves {
		if leaves[i], err = merkle.ParseHash(h); err != nil {
			return found("seal of %s altered: leaf %d is not a hash", l.Day, i)
		}
	}
	if l.Count == nil || *l.Count != len(leaves) {
		return found("seal of %s altered: its count is not its number of leaves", l.Day)
	}
	if merkle.Root(leaves) != s.root {
		return found("seal of %s altered: its root is not the root of its leaves", l.Day)
	}
	if err := v.records(l.Day, day, leaves); err != nil {
		return err
	}
	v.pending = nil
	v.sealed += len(day)
	v.seals++
	if v.firstDay == "" {
		v.firstDay = l.Day
	}
	v.last = &s
	return nil
}

// chain checks that s is the seal of the day after the last one, chained to its root.
func (v *verifier) chain(s seal) error {
	if v.gap != "" {
		if s.day < v.last.day || s.day == v.gap {
			return found("seals reordered: %s comes after %s", s.day, v.last.day)
		}
		return found("seal of %s removed: the seal of the next day follows %s's", v.gap, v.dayBefore(v.gap))
	}
	if v.last == nil {
		if s.previous != (merkle.Hash{}) {
			return found("seal of %s: seals before it were removed (its previous root is not the first seal's)", s.day)
		}
		return nil
	}
	switch want := nextDay(v.last.day); {
	case s.day == v.last.day:
		return found("seal of %s inserted: a second seal of that day", s.day)
	case s.day < v.last.day:
		return found("seals reordered: %s comes after %s", s.day, v.last.day)
	case s.day > want:
		// Removed, unless the missing day turns up next: decided on the next line.
		v.gap = want
		return nil
	}
	if s.previous != v.last.root {
		return found("seal of %s altered or replaced: the seal of %s chains to another root", v.last.day, s.day)
	}
	return nil
}

func nextDay(day string) string {
	d, _ := time.Parse(time.DateOnly, day)
	return d.AddDate(0, 0, 1).Format(time.DateOnly)
}

// records compares a day's records, in the order listed, with the leaves its seal keeps,
// and names the first that differs.
func (v *verifier) records(day string, got []entry, leaves []merkle.Hash) error {
	for i := range got {
		if i > 0 && got[i].id <= got[i-1].id {
			return found("record %s of %s reordered: it is listed after %s", got[i].id, day, got[i-1].id)
		}
	}
	at := func(hs []merkle.Hash, h merkle.Hash) int { return slices.Index(hs, h) }
	gotLeaves := make([]merkle.Hash, len(got))
	for i, e := range got {
		gotLeaves[i] = e.leaf
	}
	for i := 0; ; i++ {
		switch {
		case i == len(got) && i == len(leaves):
			return nil
		case i == len(got):
			return found("record sealed at position %d of %s removed (after %s)", i, day, idBefore(got, i))
		case i == len(leaves):
			return found("record %s inserted into %s", got[i].id, day)
		case got[i].leaf == leaves[i]:
			continue
		}
		e := got[i]
		switch sealedAt, listedAt := at(leaves, e.leaf), at(gotLeaves, leaves[i]); {
		case sealedAt > i && listedAt > i:
			return found("record %s of %s reordered: sealed at position %d, listed at %d", e.id, day, sealedAt, i)
		case sealedAt < 0 && listedAt < 0:
			return found("record %s of %s altered", e.id, day)
		case listedAt < 0:
			return found("record sealed at position %d of %s removed (after %s)", i, day, idBefore(got, i))
		default:
			return found("record %s inserted into %s", e.id, day)
		}
	}
}

func idBefore(got []entry, i int) string {
	if i == 0 {
		return "the day's start"
	}
	return got[i-1].id
}
