package gdpr

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// The daily warehouse export (R-DWH-1…3): per brand, one file per warehouse table under
// "date=YYYY-MM-DD/brand={brand}/{table}.parquet", the day being the service clock's. A day
// is complete once its manifest ("date=…/_SUCCESS") is written, after every file of every
// brand; only then are the other days deleted, their manifests first. So a crash at any step
// leaves the last complete day as it was and no incomplete day looking complete, and an
// erased value outlives its erasure in the warehouse at most until the next export.

// WarehouseReader pages through a brand's subjects: all the warehouse export reads.
type WarehouseReader interface {
	ListBrands(ctx context.Context) ([]Brand, error)
	ListUsers(ctx context.Context, brand BrandID, after string, limit int) ([]User, error)
	ListContacts(ctx context.Context, brand BrandID, after string, limit int) ([]Contact, error)
}

// WarehouseFiles keeps the warehouse's files: the warehouse container in Azure, a folder of
// the data directory in local mode. The file format is the adapter's (internal/warehouse).
type WarehouseFiles interface {
	// CreateTable starts the file of table t at key, streamed: rows are written one at a time
	// and the file replaces any other at key only when Close returns nil. Abort drops it.
	CreateTable(ctx context.Context, key string, t WarehouseTable, metadata map[string]string) (WarehouseTableWriter, error)
	// Put writes a small file whole (the day's manifest).
	Put(ctx context.Context, key string, data []byte, contentType string) error
	// Exists reports whether a file is at key.
	Exists(ctx context.Context, key string) (bool, error)
	// ListDirs lists the names of the "directories" right under prefix ("" for the top).
	ListDirs(ctx context.Context, prefix string) ([]string, error)
	// List lists the keys under prefix, in byte order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes a file; a missing one is success.
	Delete(ctx context.Context, key string) error
}

// WarehouseTableWriter writes one file's rows.
type WarehouseTableWriter interface {
	Write(row []any) error
	Close() error
	Abort(err error)
}

// WarehouseManifestName is the file that marks a day complete.
const WarehouseManifestName = "_SUCCESS"

// warehousePage is how many subjects one store read brings: a page of users or contacts in
// memory at a time, whatever the brand's size.
const warehousePage = 1000

// WarehouseService runs the daily export.
type WarehouseService struct {
	core
	reader WarehouseReader
	files  WarehouseFiles
	ids    *warehouseIDs
	tables []WarehouseTable
}

// NewWarehouseService checks its dependencies and derives the tables from the data map.
func NewWarehouseService(c Core, reader WarehouseReader, files WarehouseFiles) (*WarehouseService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("WarehouseService", map[string]bool{"WarehouseReader": reader != nil, "WarehouseFiles": files != nil})
	}
	if err != nil {
		return nil, err
	}
	ids := newWarehouseIDs(c.Hasher)
	tables, err := warehouseTables(ids)
	if err != nil {
		return nil, err
	}
	return &WarehouseService{core: cc, reader: reader, files: files, ids: ids, tables: tables}, nil
}

// inWarehouse is the one decision of who is exported. Everyone is, erased subjects included,
// as their erased rows (R-DWH-3): the warehouse sees erasures as production does; but not a
// subject whose processing is restricted or who objected (GDPR Art. 18, 21), until the
// request is lifted (R-RIGHTS-1).
func inWarehouse(u User) bool { return u.Restriction == nil }

// WarehouseManifest is what the day's _SUCCESS file says.
type WarehouseManifest struct {
	SchemaVersion string                   `json:"schemaVersion"`
	Day           string                   `json:"day"`
	Brands        []WarehouseManifestBrand `json:"brands"`
}

// WarehouseManifestBrand lists a brand's files and their rows.
type WarehouseManifestBrand struct {
	Brand BrandID          `json:"brand"`
	Rows  map[string]int64 `json:"rows"` // by table
}

// WarehouseDayPrefix is a day's directory.
func WarehouseDayPrefix(day string) string { return "date=" + day + "/" }

// WarehouseFileKey is a table's file of one brand and day.
func WarehouseFileKey(day string, brand BrandID, table string) string {
	return WarehouseDayPrefix(day) + "brand=" + string(brand) + "/" + table + ".parquet"
}

// Export writes the day's files of every brand, marks the day complete, then deletes every
// other day. A day already complete is not written again: running twice a day changes
// nothing but finishing a deletion a crash interrupted.
func (s *WarehouseService) Export(ctx context.Context) (WarehouseManifest, error) {
	day := s.clock.Now().UTC().Format("2006-01-02")
	m := WarehouseManifest{SchemaVersion: WarehouseSchemaVersion, Day: day}
	manifest := WarehouseDayPrefix(day) + WarehouseManifestName
	done, err := s.files.Exists(ctx, manifest)
	if err != nil {
		return m, err
	}
	if !done {
		brands, err := s.reader.ListBrands(ctx)
		if err != nil {
			return m, err
		}
		for _, b := range brands {
			rows, err := s.exportBrand(ctx, day, b.ID)
			if err != nil {
				return m, fmt.Errorf("warehouse: brand %s: %w", b.ID, err)
			}
			m.Brands = append(m.Brands, WarehouseManifestBrand{Brand: b.ID, Rows: rows})
		}
		body, err := json.Marshal(m)
		if err != nil {
			return m, err
		}
		if err := s.files.Put(ctx, manifest, body, "application/json"); err != nil {
			return m, err
		}
		s.log.InfoContext(ctx, "warehouse export written", "day", day, "brands", len(m.Brands))
	}
	return m, s.deleteOtherDays(ctx, day)
}

// deleteOtherDays deletes every day but day, each one's manifest first: a day half deleted
// is never complete.
func (s *WarehouseService) deleteOtherDays(ctx context.Context, day string) error {
	dirs, err := s.files.ListDirs(ctx, "")
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if d == strings.TrimSuffix(WarehouseDayPrefix(day), "/") || !strings.HasPrefix(d, "date=") {
			continue
		}
		prefix := d + "/"
		if err := s.files.Delete(ctx, prefix+WarehouseManifestName); err != nil {
			return err
		}
		keys, err := s.files.List(ctx, prefix)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := s.files.Delete(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// exportBrand streams the brand's users into the members' and external users' files and its
// contacts into the contacts', sales' and consent events' files, a page at a time.
func (s *WarehouseService) exportBrand(ctx context.Context, day string, brand BrandID) (rows map[string]int64, err error) {
	meta := map[string]string{"popsell.schema_version": WarehouseSchemaVersion, "popsell.day": day, "popsell.brand": string(brand)}
	writers := map[string]WarehouseTableWriter{}
	defer func() {
		for _, w := range writers {
			if err != nil {
				w.Abort(err)
			}
		}
	}()
	for _, t := range s.tables {
		m := with(meta, "popsell.table", t.Name)
		w, err := s.files.CreateTable(ctx, WarehouseFileKey(day, brand, t.Name), t, m)
		if err != nil {
			return nil, err
		}
		writers[t.Name] = w
	}
	rows = map[string]int64{}
	write := func(t WarehouseTable, row []any) error {
		rows[t.Name]++
		return writers[t.Name].Write(row)
	}
	byName := map[string]WarehouseTable{}
	for _, t := range s.tables {
		byName[t.Name] = t
	}
	var row []any
	for after := ""; ; {
		page, err := s.reader.ListUsers(ctx, brand, after, warehousePage)
		if err != nil {
			return nil, err
		}
		for _, u := range page {
			if !inWarehouse(u) {
				continue
			}
			t := byName[TableMembers]
			if u.Kind == SubjectExternal {
				t = byName[TableExternalUsers]
			}
			if row, err = warehouseRow(t.Columns, reflect.ValueOf(&u).Elem(), row[:0]); err != nil {
				return nil, err
			}
			if err := write(t, row); err != nil {
				return nil, err
			}
		}
		if len(page) < warehousePage {
			break
		}
		after = page[len(page)-1].ID
	}
	// The users' files are done: closing them now frees their encoders before the contacts'.
	if err := closeTables(writers, TableMembers, TableExternalUsers); err != nil {
		return nil, err
	}
	for after := ""; ; {
		page, err := s.reader.ListContacts(ctx, brand, after, warehousePage)
		if err != nil {
			return nil, err
		}
		for i := range page {
			v := reflect.ValueOf(&page[i]).Elem()
			for _, t := range s.tables {
				if t.Kind != SubjectContact {
					continue
				}
				if err := s.contactRows(t, v, write); err != nil {
					return nil, err
				}
			}
		}
		if len(page) < warehousePage {
			break
		}
		after = page[len(page)-1].ID
	}
	if err := closeTables(writers, TableContacts, TableSales, TableConsentEvents); err != nil {
		return nil, err
	}
	return rows, nil
}

// closeTables finishes the named files, each taken out of writers first so that a failure
// aborts only those still open.
func closeTables(writers map[string]WarehouseTableWriter, names ...string) error {
	for _, n := range names {
		w := writers[n]
		delete(writers, n)
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

// contactRows writes a contact's row of the contacts' table, or a row per element of a list
// table, each led by the contact's keys.
func (s *WarehouseService) contactRows(t WarehouseTable, contact reflect.Value, write func(WarehouseTable, []any) error) error {
	if t.List == "" {
		row, err := warehouseRow(t.Columns, contact, nil)
		if err != nil {
			return err
		}
		return write(t, row)
	}
	parents := len(warehouseParentKeys)
	keys, err := warehouseRow(t.Columns[:parents], contact, nil)
	if err != nil {
		return err
	}
	list := contact.FieldByIndex(t.listIndex)
	for i := range list.Len() {
		row, err := warehouseRow(t.Columns[parents:], list.Index(i), slices.Clone(keys))
		if err != nil {
			return err
		}
		if err := write(t, row); err != nil {
			return err
		}
	}
	return nil
}

// with is m and one more entry, m left as it is.
func with(m map[string]string, k, v string) map[string]string {
	out := maps.Clone(m)
	out[k] = v
	return out
}

// warehouseIDs makes the warehouse's ids: HMAC-SHA-256 under a key of the warehouse's own,
// derived from the hash key as HMAC(hash key, "popsell warehouse ids"). The same id gives the
// same digest every day and in every table, so rows join; the production digests (R-ERASE-4)
// use the hash key itself, so a warehouse id matches none of them, and without the key no id
// can be traced back to production. The key is the newest version's: a hash-key rotation
// changes every warehouse id from the next export on, so that an exposed older key traces
// no id written after the rotation (the warehouse keeps only its latest day).
type warehouseIDs struct{ macs sync.Pool }

const warehouseKeyPurpose = "popsell warehouse ids"

func newWarehouseIDs(h *Hasher) *warehouseIDs {
	d := hmac.New(sha256.New, h.keys[len(h.keys)-1].key)
	d.Write([]byte(warehouseKeyPurpose))
	key := d.Sum(nil)
	w := &warehouseIDs{}
	w.macs.New = func() any { return hmac.New(sha256.New, key) }
	return w
}

// digest is the hex HMAC of id, 128 bits of it: as unique as the ids themselves, half the
// bytes in every column that joins.
func (w *warehouseIDs) digest(id string) string {
	if w == nil {
		panic(errors.New("warehouse ids without a key")) // a schema-only table was used for rows
	}
	m := w.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(id))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	w.macs.Put(m)
	return hex.EncodeToString(sum[:16])
}
