package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"os"
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
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/storetest"
	"popsell-gdpr/internal/warehouse"
	"popsell-gdpr/internal/warehouse/warehousetest"
)

var day1 = time.Date(2031, 6, 1, 4, 0, 0, 0, time.UTC)

type world struct {
	store  *localstore.Store
	blobs  *blobstore.Folder
	clock  *clocktest.Manual
	hasher *gdpr.Hasher
	svc    *gdpr.WarehouseService
	brand  gdpr.BrandID
}

func newWorld(t *testing.T, blobs warehouse.Blobs) *world {
	t.Helper()
	dir := t.TempDir()
	store, err := localstore.Open(filepath.Join(dir, "popsell.db"))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	w := &world{store: store, blobs: blobstore.NewFolder(filepath.Join(dir, "warehouse")), clock: clocktest.New(day1),
		brand: storetest.NewBrandID()}
	if blobs == nil {
		blobs = w.blobs
	}
	w.hasher, err = gdpr.NewHasher("h1", []byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	w.svc, err = gdpr.NewWarehouseService(gdpr.Core{Brands: w.store, Hasher: w.hasher, Clock: w.clock}, w.store,
		warehouse.Files{Blobs: blobs, RowGroupRows: 3})
	require.NoError(t, err)
	_, err = w.store.PutBrand(t.Context(), storetest.NewBrand(w.brand))
	require.NoError(t, err)
	return w
}

// read decodes one table's file of the day.
func (w *world) read(t *testing.T, day time.Time, table string) warehousetest.File {
	t.Helper()
	data, err := w.blobs.Get(t.Context(), gdpr.WarehouseFileKey(day.Format("2006-01-02"), w.brand, table))
	require.NoError(t, err)
	f, err := warehousetest.Read(data)
	require.NoError(t, err)
	return f
}

// TestWarehouseSchemaIsTheDataMaps_R_DWH_1_R_DWH_2: every file's columns are the data map's
// warehouse fields of its table and nothing else, with the types the domain gives them, and
// the schema version in its key-value metadata.
func TestWarehouseSchemaIsTheDataMaps_R_DWH_1_R_DWH_2(t *testing.T) {
	w := newWorld(t, nil)
	_, err := w.svc.Export(t.Context())
	require.NoError(t, err)
	tables, err := gdpr.WarehouseTables()
	require.NoError(t, err)
	require.Equal(t, []string{"members", "external_users", "contacts", "consent_events", "sales"},
		names(tables))
	// What the data map sends to the warehouse, per subject kind, read from the map itself.
	sent := map[gdpr.SubjectKind][]string{}
	omitted := map[gdpr.SubjectKind][]string{}
	for _, dt := range gdpr.DataMap() {
		for _, f := range dt.Fields {
			if f.Warehouse == gdpr.WarehouseOmit {
				omitted[gdpr.SubjectKind(dt.Kind)] = append(omitted[gdpr.SubjectKind(dt.Kind)], f.Path)
			} else {
				sent[gdpr.SubjectKind(dt.Kind)] = append(sent[gdpr.SubjectKind(dt.Kind)], f.Path)
			}
		}
	}
	covered := map[gdpr.SubjectKind][]string{}
	for _, tb := range tables {
		f := w.read(t, day1, tb.Name)
		require.Equal(t, gdpr.WarehouseSchemaVersion, f.Metadata["popsell.schema_version"], tb.Name)
		require.Equal(t, tb.Name, f.Metadata["popsell.table"])
		var leaves []string
		for _, c := range tb.Columns {
			if c.Type == gdpr.WarehouseList {
				for _, sub := range c.Fields {
					leaves = append(leaves, c.Name+".list.element."+sub.Name)
					covered[tb.Kind] = append(covered[tb.Kind], sub.Path)
					require.NotContains(t, omitted[tb.Kind], sub.Path)
				}
				continue
			}
			leaves = append(leaves, c.Name)
			covered[tb.Kind] = append(covered[tb.Kind], c.Path)
			require.NotContains(t, omitted[tb.Kind], c.Path, "%s.%s is omitted by the data map", tb.Name, c.Name)
			require.Equal(t, parquetType(c.Type), f.Columns[c.Name], "%s.%s", tb.Name, c.Name)
		}
		require.ElementsMatch(t, leaves, keys(f.Columns), tb.Name)
	}
	for kind, paths := range sent {
		if len(paths) == 0 {
			continue
		}
		require.ElementsMatch(t, uniq(paths), uniq(covered[kind]), "every warehouse field of %s has its column", kind)
	}
}

func parquetType(t gdpr.WarehouseType) string {
	return map[gdpr.WarehouseType]string{gdpr.WarehouseString: "STRING", gdpr.WarehouseInt: "INT(64,true)",
		gdpr.WarehouseYear: "INT(64,true)", gdpr.WarehouseBool: "BOOLEAN",
		gdpr.WarehouseTimestamp: "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)", gdpr.WarehouseDecimal: "DECIMAL(16,4)"}[t]
}

// TestWarehouseValuesPerRole_R_DWH_1: members carry their names and alias, external users do
// not; ids are warehouse digests that join across tables and differ from production digests;
// a date of birth is its year; amounts are exact.
func TestWarehouseValuesPerRole_R_DWH_1(t *testing.T) {
	w := newWorld(t, nil)
	ctx := t.Context()
	member := warehouseUser(w.brand)
	member.Role, member.Kind = gdpr.RoleVendor, gdpr.SubjectMember
	external := warehouseUser(w.brand)
	external.Role, external.Kind = gdpr.RoleClient, gdpr.SubjectExternal
	for _, u := range []gdpr.User{member, external} {
		_, err := w.store.CreateUser(ctx, u)
		require.NoError(t, err)
	}
	contact := storetest.NewContact(w.brand, member.ID)
	contact.Sales[0].Amount = "1234567.8901"
	_, err := w.store.CreateContact(ctx, contact)
	require.NoError(t, err)
	m, err := w.svc.Export(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"members": 1, "external_users": 1, "contacts": 1, "sales": 1, "consent_events": 1},
		m.Brands[0].Rows)

	members := w.read(t, day1, "members").Rows
	require.Len(t, members, 1)
	mr := members[0]
	require.Equal(t, member.FirstName, mr["first_name"])
	require.Equal(t, member.LastName, mr["last_name"])
	require.Equal(t, member.Alias, mr["alias"])
	require.Equal(t, "Testville", mr["address_city"])
	require.Equal(t, "99999", mr["address_postal_code"])
	require.EqualValues(t, 1990, mr["date_of_birth_year"])
	require.EqualValues(t, gdpr.RoleVendor, mr["role"])
	require.EqualValues(t, member.CreatedAt.UnixMicro(), mr["created_at"])
	require.Equal(t, true, mr["opt_ins_newsletter"])
	memberID := mr["id"].(string)
	require.Len(t, memberID, 32)
	require.NotContains(t, memberID, member.ID)
	require.NotContains(t, w.hasher.Digest(member.ID), memberID, "not a production digest")

	ext := w.read(t, day1, "external_users").Rows
	require.Len(t, ext, 1)
	for _, col := range []string{"first_name", "last_name", "alias"} {
		require.NotContains(t, ext[0], col, "external users' names are not exported (R-DWH-1)")
	}

	contacts := w.read(t, day1, "contacts").Rows
	require.Len(t, contacts, 1)
	require.Equal(t, memberID, contacts[0]["member_id"], "a contact joins its member")
	sales := w.read(t, day1, "sales").Rows
	require.Equal(t, contacts[0]["id"], sales[0]["contact_id"], "a sale joins its contact")
	require.Equal(t, memberID, sales[0]["member_id"])
	// DECIMAL(16,4) read back exactly: parquet-go gives a big.Float of the unscaled integer.
	require.Equal(t, "1234567.8901", sales[0]["amount"].(*big.Float).Text('f', 4))
	require.Equal(t, "EUR", sales[0]["currency"])
	require.Len(t, sales[0]["products"], 2)
	events := w.read(t, day1, "consent_events").Rows
	require.Equal(t, string(gdpr.MemberOptInInvitationSent), events[0]["to"])
	require.Equal(t, string(gdpr.SourceKindInvitation), events[0]["source_kind"])
	require.NotContains(t, events[0], "source_ref")

	// The next day, the same ids.
	w.clock.Set(day1.AddDate(0, 0, 1))
	_, err = w.svc.Export(ctx)
	require.NoError(t, err)
	require.Equal(t, memberID, w.read(t, day1.AddDate(0, 0, 1), "members").Rows[0]["id"], "ids are stable across days")
}

// TestNoDirectIdentifierInAnyFile_R_DWH_2 is a property over random subjects: no email, phone,
// street, description or external identifier of any of them appears in any decoded value of
// any file, nor in the file's bytes.
func TestNoDirectIdentifierInAnyFile_R_DWH_2(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorld(t, nil)
			ctx := t.Context()
			rng := rand.New(rand.NewPCG(seed, 42))
			var secrets []string
			word := func(prefix string) string { return fmt.Sprintf("%s%08x", prefix, rng.Uint32()) }
			for range 20 + rng.IntN(30) {
				u := warehouseUser(w.brand)
				u.Role = gdpr.Role(rng.IntN(9))
				u.Kind = u.Role.Kind()
				u.Email, u.EmailTmp = word("mail")+"@example.test", word("tmp")+"@example.test"
				u.Phone, u.Address.Street, u.Description = word("+33"), word("street "), word("about ")
				u.CustomerID, u.SocialID, u.ExternalID, u.IdPExternalID = word("cust"), word("social:"), word("sso"), word("idp")
				u.UserName, u.PasswordHash = word("User"), word("$2a$10$")
				if rng.IntN(3) == 0 {
					u.Status = gdpr.UserErased
				}
				_, err := w.store.CreateUser(ctx, u)
				require.NoError(t, err)
				secrets = append(secrets, u.Email, u.EmailTmp, u.Phone, u.Address.Street, u.Description, u.CustomerID,
					u.SocialID, u.ExternalID, u.IdPExternalID, u.UserName, u.PasswordHash)
				for range rng.IntN(4) {
					c := storetest.NewContact(w.brand, u.ID)
					c.Email, c.Phone, c.Address.Street, c.Notes = word("c")+"@example.test", word("+49"), word("road "), word("note ")
					c.Sales[0].OrderID = word("order")
					c.History[0].Source.Ref = word("ref")
					_, err := w.store.CreateContact(ctx, c)
					require.NoError(t, err)
					secrets = append(secrets, c.Email, c.Phone, c.Address.Street, c.Notes, c.Sales[0].OrderID, c.History[0].Source.Ref)
				}
			}
			_, err := w.svc.Export(ctx)
			require.NoError(t, err)
			keys, err := w.blobs.List(ctx, "")
			require.NoError(t, err)
			require.Len(t, keys, 6, "five files and the manifest")
			for _, k := range keys {
				data, err := w.blobs.Get(ctx, k)
				require.NoError(t, err)
				for _, s := range secrets {
					require.NotContains(t, string(data), s, "%s holds a direct identifier", k)
				}
				if !strings.HasSuffix(k, ".parquet") {
					continue
				}
				f, err := warehousetest.Read(data)
				require.NoError(t, err)
				for _, row := range f.Rows {
					for col, v := range flatten(row) {
						require.NotContains(t, secrets, v, "%s: column %s holds a direct identifier", k, col)
					}
				}
			}
		})
	}
}

// flatten yields every string value of a decoded row, nested lists included.
func flatten(row map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case string:
			out[prefix] = x
		case map[string]any:
			for k, y := range x {
				walk(prefix+"."+k, y)
			}
		case []any:
			for i, y := range x {
				walk(fmt.Sprintf("%s[%d]", prefix, i), y)
			}
		}
	}
	for k, v := range row {
		walk(k, v)
	}
	return out
}

// TestWarehouseDays_R_DWH_3: a day is complete once its manifest is written; the next day's
// export deletes it; running twice a day writes nothing new.
func TestWarehouseDays_R_DWH_3(t *testing.T) {
	w := newWorld(t, nil)
	ctx := t.Context()
	_, err := w.store.CreateUser(ctx, warehouseUser(w.brand))
	require.NoError(t, err)
	_, err = w.svc.Export(ctx)
	require.NoError(t, err)
	first := listing(t, w)
	require.Contains(t, first, "date=2031-06-01/_SUCCESS")
	// Same day again: nothing rewritten, even after a change.
	_, err = w.store.CreateUser(ctx, warehouseUser(w.brand))
	require.NoError(t, err)
	_, err = w.svc.Export(ctx)
	require.NoError(t, err)
	require.Len(t, w.read(t, day1, "members").Rows, 1, "a complete day is not written again")
	// The next day replaces it.
	w.clock.Set(day1.AddDate(0, 0, 1))
	_, err = w.svc.Export(ctx)
	require.NoError(t, err)
	for _, k := range listing(t, w) {
		require.True(t, strings.HasPrefix(k, "date=2031-06-02/"), "%s: no history is kept", k)
	}
	require.Len(t, w.read(t, day1.AddDate(0, 0, 1), "members").Rows, 2)
}

// TestWarehouseCrashAtEveryWrite_R_DWH_3: an export that fails at any write of blob storage
// leaves the last complete day complete and readable, no new day marked complete, and the
// next run finishes the job.
func TestWarehouseCrashAtEveryWrite_R_DWH_3(t *testing.T) {
	for failAt := 1; ; failAt++ {
		blobs := &failing{failAt: failAt}
		w := newWorld(t, blobs)
		blobs.Folder = w.blobs
		ctx := t.Context()
		u := warehouseUser(w.brand)
		_, err := w.store.CreateUser(ctx, u)
		require.NoError(t, err)
		c := storetest.NewContact(w.brand, u.ID)
		_, err = w.store.CreateContact(ctx, c)
		require.NoError(t, err)
		blobs.off = true
		_, err = w.svc.Export(ctx)
		require.NoError(t, err)
		blobs.off, blobs.writes = false, 0
		w.clock.Set(day1.AddDate(0, 0, 1))
		_, err = w.svc.Export(ctx)
		if err == nil {
			require.Greater(t, failAt, 8, "every step was failed once")
			return
		}
		require.ErrorIs(t, err, errCrash)
		// Complete days: each still has its whole files.
		complete := 0
		for _, d := range []time.Time{day1, day1.AddDate(0, 0, 1)} {
			if ok, _ := w.blobs.Exists(ctx, gdpr.WarehouseDayPrefix(d.Format("2006-01-02"))+gdpr.WarehouseManifestName); ok {
				complete++
				for _, tb := range []string{"members", "contacts", "sales", "consent_events", "external_users"} {
					w.read(t, d, tb)
				}
			}
		}
		// Both days may stand complete for a moment (the old one's deletion failed); never none.
		require.GreaterOrEqual(t, complete, 1, "fail at write %d: a complete day is left", failAt)
		// The next run completes the new day and deletes the old.
		blobs.off = true
		_, err = w.svc.Export(ctx)
		require.NoError(t, err)
		for _, k := range listing(t, w) {
			require.True(t, strings.HasPrefix(k, "date=2031-06-02/"), "%s", k)
		}
		require.Len(t, w.read(t, day1.AddDate(0, 0, 1), "members").Rows, 1)
	}
}

var errCrash = errors.New("crash")

// failing fails the failAt-th write or delete of blob storage, and every one after it, as a
// process killed there would stop. The files of an export are streamed at once, so writes are
// counted under a lock; off and writes are set between exports, when none runs.
type failing struct {
	*blobstore.Folder
	mu             sync.Mutex
	failAt, writes int
	off            bool
}

func (f *failing) step() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off {
		return nil
	}
	if f.writes++; f.writes >= f.failAt {
		return errCrash
	}
	return nil
}

func (f *failing) PutStream(ctx context.Context, key string, r io.Reader, contentType string) error {
	if err := f.step(); err != nil {
		_, _ = io.Copy(io.Discard, r)
		return err
	}
	return f.Folder.PutStream(ctx, key, r, contentType)
}

func (f *failing) Put(ctx context.Context, key string, data []byte, contentType string) error {
	if err := f.step(); err != nil {
		return err
	}
	return f.Folder.Put(ctx, key, data, contentType)
}

func (f *failing) Delete(ctx context.Context, key string) error {
	if err := f.step(); err != nil {
		return err
	}
	return f.Folder.Delete(ctx, key)
}

// TestAbortedFileLeavesNothing: a file whose rows fail is not committed, and no temp file is
// left in the folder.
func TestAbortedFileLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	files := warehouse.Files{Blobs: blobstore.NewFolder(dir)}
	tables, err := gdpr.WarehouseTables()
	require.NoError(t, err)
	wr, err := files.CreateTable(t.Context(), "date=2031-06-01/brand=b/members.parquet", tables[0], nil)
	require.NoError(t, err)
	require.Error(t, wr.Write([]any{"too few"}))
	wr.Abort(errors.New("row refused"))
	var found []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found = append(found, p)
		}
		return err
	}))
	require.Empty(t, found)
}

func listing(t *testing.T, w *world) []string {
	t.Helper()
	keys, err := w.blobs.List(t.Context(), "")
	require.NoError(t, err)
	return keys
}

func names(ts []gdpr.WarehouseTable) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// TestRestrictedSubjectsAreLeftOut_R_RIGHTS_1: a member whose processing is restricted, or who
// objected (GDPR Art. 18, 21), is not in the warehouse until the request is lifted.
func TestRestrictedSubjectsAreLeftOut_R_RIGHTS_1(t *testing.T) {
	w := newWorld(t, nil)
	ctx := t.Context()
	free, restricted := warehouseUser(w.brand), warehouseUser(w.brand)
	restricted.Restriction = &gdpr.Restriction{Kind: gdpr.RequestRestriction, RequestID: "r_test", Since: day1}
	for _, u := range []gdpr.User{free, restricted} {
		u.Role, u.Kind = gdpr.RoleVendor, gdpr.SubjectMember
		_, err := w.store.CreateUser(ctx, u)
		require.NoError(t, err)
	}
	m, err := w.svc.Export(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, m.Brands[0].Rows["members"])
	members := w.read(t, day1, "members").Rows
	require.Len(t, members, 1)
	require.Equal(t, free.FirstName, members[0]["first_name"])
}

// warehouseUser is storetest's user, every field filled, without the restriction that the
// fixture also fills and that keeps a subject out of the warehouse.
func warehouseUser(brand gdpr.BrandID) gdpr.User {
	u := storetest.NewUser(brand)
	u.Restriction = nil
	return u
}
