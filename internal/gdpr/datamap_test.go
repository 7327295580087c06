package gdpr_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// storedShape is the JSON shape of a stored Go type: its leaves (values encoding/json writes
// whole) and the objects on the way to them, as paths ("address.city", "ugc[].key").
type storedShape struct {
	leaves []string
	nodes  map[string]bool
}

var (
	marshaler = reflect.TypeFor[json.Marshaler]()
	timeType  = reflect.TypeFor[time.Time]()
)

func shapeOf(t reflect.Type) storedShape {
	s := storedShape{nodes: map[string]bool{}}
	s.walkStruct(t, "")
	return s
}

// walkStruct follows encoding/json's rules: exported fields, named by their tag, "-" left
// out, embedded structs without a tag promoted; pointers followed, slices of structs entered
// as "name[]", maps and types with their own MarshalJSON taken whole.
func (s *storedShape) walkStruct(t reflect.Type, prefix string) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			s.walkStruct(ft, prefix)
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.walk(ft, prefix+name)
	}
}

func (s *storedShape) walk(t reflect.Type, path string) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType || t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler):
		s.leaves = append(s.leaves, path)
	case t.Kind() == reflect.Struct:
		s.nodes[path] = true
		s.walkStruct(t, path+".")
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && t.Elem() != timeType:
		s.nodes[path] = true
		s.walkStruct(t.Elem(), path+"[].")
	default:
		s.leaves = append(s.leaves, path)
	}
}

// covers reports whether a map entry's path classifies the leaf: the leaf itself, or an
// object or list of objects it is inside.
func covers(entry, leaf string) bool {
	return entry == leaf || strings.HasPrefix(leaf, entry+".") || strings.HasPrefix(leaf, entry+"[].")
}

// TestDataMapClassifiesEveryStoredField walks each stored Go type and fails on a field the map
// does not classify, on one it classifies twice, and on a classified path that no longer
// exists.
func TestDataMapClassifiesEveryStoredField(t *testing.T) {
	for _, table := range gdpr.DataMap() {
		t.Run(table.Kind, func(t *testing.T) {
			if table.Type == nil || table.Type.Kind() != reflect.Struct {
				t.Fatalf("the %s table names no stored struct type", table.Kind)
			}
			shape := shapeOf(table.Type)
			leaves := map[string]bool{}
			for _, leaf := range shape.leaves {
				leaves[leaf] = true
				var by []string
				for _, f := range table.Fields {
					if covers(f.Path, leaf) {
						by = append(by, f.Path)
					}
				}
				switch len(by) {
				case 0:
					t.Errorf("%s stores %q, which the data map does not classify (internal/gdpr/datamap.go)", table.Type, leaf)
				case 1:
				default:
					t.Errorf("%s: %q is classified %d times, by %q", table.Type, leaf, len(by), by)
				}
			}
			seen := map[string]bool{}
			for _, f := range table.Fields {
				if !leaves[f.Path] && !shape.nodes[f.Path] {
					t.Errorf("the data map classifies %q, which %s no longer stores", f.Path, table.Type)
				}
				if seen[f.Path] {
					t.Errorf("%q is listed twice", f.Path)
				}
				seen[f.Path] = true
			}
		})
	}
}

// TestShapeOfFollowsEncodingJSON: the walker sees what encoding/json writes, so the test above
// cannot pass by missing a field.
func TestShapeOfFollowsEncodingJSON(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		B []int  `json:"b"`
	}
	type Embedded struct {
		E string `json:"e"`
	}
	type outer struct {
		Embedded
		Plain    string
		Tagged   string `json:"tagged,omitempty"`
		Skipped  string `json:"-"`
		hidden   string
		Ptr      *inner            `json:"ptr"`
		List     []inner           `json:"list"`
		Map      map[string]inner  `json:"map"`
		When     time.Time         `json:"when"`
		Born     gdpr.Date         `json:"born"`
		Nested   struct{ X inner } `json:"nested"`
		Strings  []string          `json:"strings"`
		Duration gdpr.Period       `json:"duration"`
	}
	_ = outer{}.hidden
	got := shapeOf(reflect.TypeFor[outer]())
	want := []string{"e", "Plain", "tagged", "ptr.a", "ptr.b", "list[].a", "list[].b", "map", "when", "born",
		"nested.X.a", "nested.X.b", "strings", "duration"}
	if !slices.Equal(got.leaves, want) {
		t.Errorf("leaves %q, want %q", got.leaves, want)
	}
	for _, n := range []string{"ptr", "list", "nested", "nested.X"} {
		if !got.nodes[n] {
			t.Errorf("object %q not seen", n)
		}
	}
}

// storePorts are the capabilities through which documents are stored.
var storePorts = []reflect.Type{
	reflect.TypeFor[gdpr.BrandStore](), reflect.TypeFor[gdpr.UserStore](), reflect.TypeFor[gdpr.ContactStore](),
	reflect.TypeFor[gdpr.ContactDocuments](), reflect.TypeFor[gdpr.ContactDueIndex](), reflect.TypeFor[gdpr.ClaimStore](),
	reflect.TypeFor[gdpr.Blacklist](), reflect.TypeFor[gdpr.BlacklistWriter](), reflect.TypeFor[gdpr.BlacklistRemover](), reflect.TypeFor[gdpr.SoftBounceStore](), reflect.TypeFor[gdpr.WhitelistStore](),
	reflect.TypeFor[gdpr.TokenStore](), reflect.TypeFor[gdpr.ErasureAudit](), reflect.TypeFor[gdpr.RequestStore](),
	reflect.TypeFor[gdpr.MemberContactPages](), reflect.TypeFor[gdpr.ExportRecords](),
}

// TestDataMapHasATableForEveryStoredType: every document type a store port takes or returns
// has a table, so a new kind of document cannot be stored unclassified.
func TestDataMapHasATableForEveryStoredType(t *testing.T) {
	gdprPkg := reflect.TypeFor[gdpr.User]().PkgPath()
	notDocuments := map[reflect.Type]bool{
		reflect.TypeFor[gdpr.DueCursor]():     true, // a cursor into the due index
		reflect.TypeFor[gdpr.RequestFilter](): true, // a page of the register
	}
	stored := map[reflect.Type]bool{}
	for _, port := range storePorts {
		for m := range port.Methods() {
			var types []reflect.Type
			for in := range m.Type.Ins() {
				types = append(types, in)
			}
			for out := range m.Type.Outs() {
				types = append(types, out)
			}
			for _, typ := range types {
				for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Pointer {
					typ = typ.Elem()
				}
				if typ.Kind() == reflect.Struct && typ.PkgPath() == gdprPkg && !notDocuments[typ] {
					stored[typ] = true
				}
			}
		}
	}
	mapped := map[reflect.Type]bool{}
	for _, table := range gdpr.DataMap() {
		mapped[table.Type] = true
	}
	for typ := range stored {
		if !mapped[typ] {
			t.Errorf("%s is stored through a store port and has no table in the data map", typ)
		}
	}
	for typ := range mapped {
		if !stored[typ] {
			t.Errorf("the data map has a table for %s, which no store port keeps", typ)
		}
	}
}

// TestDataMapEntriesAreValid: each field has a fideslang category of the list, actions,
// warehouse action, purpose and retention rule of the map's own vocabularies; the member
// table alone distinguishes roles under contract.
func TestDataMapEntriesAreValid(t *testing.T) {
	actions := map[gdpr.FieldAction]bool{gdpr.FieldKeep: true, gdpr.FieldErase: true, gdpr.FieldHash: true,
		gdpr.FieldDelete: true, gdpr.FieldYearOnly: true, gdpr.FieldDeleteUnlessContest: true, gdpr.FieldMark: true}
	purposes := map[gdpr.Purpose]bool{}
	for _, p := range gdpr.Purposes {
		purposes[p.Purpose] = true
	}
	kinds := map[string]bool{}
	for _, table := range gdpr.DataMap() {
		if kinds[table.Kind] {
			t.Errorf("two tables of kind %s", table.Kind)
		}
		kinds[table.Kind] = true
		if table.Description == "" || table.Collection == "" {
			t.Errorf("%s: description and collection are required", table.Kind)
		}
		for _, f := range table.Fields {
			where := table.Kind + "." + f.Path
			if _, ok := gdpr.DataMapCategories[f.Category]; !ok {
				t.Errorf("%s: category %q is not in the list of fideslang categories", where, f.Category)
			}
			if !actions[f.Erasure.OnDeletion] || !actions[f.Erasure.AtContractEnd] {
				t.Errorf("%s: erasure %+v", where, f.Erasure)
			}
			if under := f.Erasure.UnderContract; (table.Kind == string(gdpr.SubjectMember)) != (under != "") || (under != "" && !actions[under]) {
				t.Errorf("%s: underContract %q: members only, and on every member field", where, under)
			}
			switch f.Warehouse {
			case gdpr.WarehouseOmit, gdpr.WarehouseKeep, gdpr.WarehouseAnonymise:
			default:
				t.Errorf("%s: warehouse %q", where, f.Warehouse)
			}
			if !purposes[f.Purpose] {
				t.Errorf("%s: purpose %q is not described in gdpr.Purposes", where, f.Purpose)
			}
			if !strings.HasPrefix(f.Retention, "R-") {
				t.Errorf("%s: retention %q is not a rule id", where, f.Retention)
			}
			if !table.Subject && f.Warehouse != gdpr.WarehouseOmit {
				t.Errorf("%s: a derived table goes nowhere near the warehouse", where)
			}
		}
	}
	for _, k := range []gdpr.SubjectKind{gdpr.SubjectMember, gdpr.SubjectExternal, gdpr.SubjectContact} {
		if !kinds[string(k)] {
			t.Errorf("no table for the subject kind %s", k)
		}
	}
}

// TestDataMapFollowsTheWarehouseRules: R-DWH-1, R-DWH-2 read off the map. Emails, phones and
// streets are never exported; of the names, members' first name, last name and alias only.
func TestDataMapFollowsTheWarehouseRules_R_DWH_1_2(t *testing.T) {
	for _, table := range gdpr.DataMap() {
		for _, f := range table.Fields {
			where := table.Kind + "." + f.Path
			switch {
			case f.Category == "user.contact.email", f.Category == "user.contact.phone_number",
				f.Category == "user.contact.address.street", f.Category == "user.authorization.credentials":
				if f.Warehouse != gdpr.WarehouseOmit {
					t.Errorf("%s: %s must never reach the warehouse (R-DWH-2)", where, f.Category)
				}
			case strings.HasPrefix(f.Category, "user.name") || f.Category == "user.account.username":
				exported := map[string]bool{"firstName": true, "lastName": true, "alias": true}[f.Path]
				member := table.Kind == string(gdpr.SubjectMember) && exported
				if (f.Warehouse == gdpr.WarehouseKeep) != member {
					t.Errorf("%s: warehouse %s; only members' names and alias are exported (R-DWH-1)", where, f.Warehouse)
				}
			}
		}
	}
}

// filled returns a T with every field non-zero, reflection-driven: strings name their path,
// numbers and flags are set, times are fixed, pointers, slices and maps hold one element.
func filled[T any]() T {
	var v T
	fill(reflect.ValueOf(&v).Elem(), "")
	return v
}

var fillTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func fill(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("v-" + strings.Trim(path, "."))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(3 + len(path)%5))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), path+"[]")
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, path+".key")
		fill(e, path+".value")
		v.SetMapIndex(k, e)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(fillTime))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	}
}

// valuesAt returns the values at a map path in a document: one, or one per element of each
// list on the way ("ugc[].key"); a nil pointer on the way gives the zero value.
func valuesAt(v reflect.Value, path string) []reflect.Value {
	if path == "" {
		return []reflect.Value{v}
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return []reflect.Value{reflect.Zero(v.Type().Elem())}
		}
		v = v.Elem()
	}
	seg, rest, _ := strings.Cut(path, ".")
	name, list := strings.CutSuffix(seg, "[]")
	f, ok := fieldByJSONName(v.Type(), name)
	if !ok {
		panic(fmt.Sprintf("%s has no field %q", v.Type(), name))
	}
	fv := v.FieldByIndex(f.Index)
	if !list {
		return valuesAt(fv, rest)
	}
	var out []reflect.Value
	for i := range fv.Len() {
		out = append(out, valuesAt(fv.Index(i), rest)...)
	}
	return out
}

func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name || (tag == "" && f.Name == name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func interfaces(vs []reflect.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v.Interface()
	}
	return out
}

// reporter is what the erasure check reports to: a test, or a recorder that proves the check
// fails when it should.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

type recorder struct{ failures []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

// erasureCase is one erasure of one filled document, checked against one column of the map.
type erasureCase[T any] struct {
	name   string
	before T
	erase  func(T) (T, gdpr.ErasureResult)
	action func(gdpr.FieldErasure) gdpr.FieldAction
}

// checkErasure asserts, field by field, that the erasure did what the map says.
func checkErasure[T any](t reporter, h *gdpr.Hasher, table gdpr.DataTable, c erasureCase[T], marked func(path string, after any) error) {
	t.Helper()
	after, res := c.erase(c.before)
	bv, av := reflect.ValueOf(c.before), reflect.ValueOf(after)
	for _, f := range table.Fields {
		action := c.action(f.Erasure)
		was, now := interfaces(valuesAt(bv, f.Path)), interfaces(valuesAt(av, f.Path))
		fail := func(format string, args ...any) {
			t.Errorf("%s: %s %q: map says %s, but %s", c.name, table.Kind, f.Path, action, fmt.Sprintf(format, args...))
		}
		if len(was) == 0 {
			t.Fatalf("%s: %q is empty in the filled document: the test fills too little", c.name, f.Path)
		}
		switch action {
		case gdpr.FieldKeep:
			if !reflect.DeepEqual(was, now) {
				fail("it changed")
			}
		case gdpr.FieldErase:
			for _, v := range valuesAt(av, f.Path) {
				if !v.IsZero() {
					fail("it is still set")
				}
			}
		case gdpr.FieldHash:
			if len(now) != len(was) {
				fail("it went")
			}
			for i, v := range now {
				s, _ := v.(string)
				if !h.IsDigest(s) || s == was[i] {
					fail("it is not a digest")
				}
			}
		case gdpr.FieldDelete:
			for i, v := range valuesAt(av, f.Path) {
				if !v.IsZero() {
					fail("it is still set")
				}
				if key, _ := was[i].(string); !slices.Contains(res.Blobs, key) {
					fail("its blob is not deleted")
				}
			}
		case gdpr.FieldYearOnly:
			d, _ := now[0].(gdpr.Date)
			if d != was[0].(gdpr.Date).YearOnly() || d.IsZero() {
				fail("it is %v", d)
			}
		case gdpr.FieldDeleteUnlessContest:
			checkContestUGC(t, c.before, after, res, f.Path, fail)
		case gdpr.FieldMark:
			if err := marked(f.Path, now[0]); err != nil {
				fail("%v", err)
			}
			if !strings.HasPrefix(f.Category, "system.") {
				fail("a mark must never be personal data (%s)", f.Category)
			}
		default:
			t.Fatalf("%s: no check for action %q", f.Path, action)
		}
	}
}

// checkContestUGC: content collected under a contest stays as it was, the rest goes with its
// blob (R-ERASE-2).
func checkContestUGC(t reporter, before, after any, res gdpr.ErasureResult, path string, fail func(string, ...any)) {
	t.Helper()
	b, ok := before.(gdpr.User)
	if !ok {
		fail("only users hold UGC")
		return
	}
	var contest []gdpr.UGC
	for _, g := range b.UGC {
		if g.ContestID != "" {
			contest = append(contest, g)
		} else if !slices.Contains(res.Blobs, g.Key) {
			fail("the blob of UGC without a contest is not deleted")
		}
	}
	if len(contest) == 0 || len(contest) == len(b.UGC) {
		t.Fatalf("the filled user must hold UGC with and without a contest")
	}
	sub := strings.TrimPrefix(path, "ugc[].")
	want := interfaces(valuesAt(reflect.ValueOf(gdpr.User{UGC: contest}), "ugc[]."+sub))
	if got := interfaces(valuesAt(reflect.ValueOf(after), path)); !reflect.DeepEqual(got, want) {
		fail("it is %v, want the contest's %v", got, want)
	}
}

func testHasher(t *testing.T) *gdpr.Hasher {
	t.Helper()
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func tableOf(t *testing.T, kind string) gdpr.DataTable {
	t.Helper()
	for _, table := range gdpr.DataMap() {
		if table.Kind == kind {
			return table
		}
	}
	t.Fatalf("no %s table", kind)
	return gdpr.DataTable{}
}

// filledUser is a live user of the role with every field set, and UGC with and without a
// contest.
func filledUser(r gdpr.Role) gdpr.User {
	u := filled[gdpr.User]()
	u.Role, u.Kind, u.Status = r, r.Kind(), gdpr.UserActive
	u.DateOfBirth = gdpr.Date{Year: 1990, Month: 4, Day: 23}
	u.UGC = append(u.UGC, gdpr.UGC{Key: "ugc/no-contest", KeepUntil: fillTime})
	return u
}

// userMarks: the policy sets the status to erased; the erasure's own state and the due index
// are the erasure procedure's, around it (erase_member.go), and the policy leaves them.
func userMarks(before gdpr.User) func(string, any) error {
	return func(path string, after any) error {
		switch path {
		case "status":
			if after != gdpr.UserErased {
				return fmt.Errorf("status is %v", after)
			}
		case "erasure":
			if !reflect.DeepEqual(after, before.Erasure) {
				return fmt.Errorf("the policy changed the erasure's state")
			}
		case "nextReviewAt":
			if after != before.NextReviewAt {
				return fmt.Errorf("the policy changed the due index")
			}
		default:
			return fmt.Errorf("no mark check for %q", path)
		}
		return nil
	}
}

// TestErasureMatchesTheDataMap_R_ERASE_1_2_3_7 runs every erasure on documents with every
// field set, for every role, and checks each field's outcome against the map's column for
// that role: a mismatch means the map or the erasure is wrong.
func TestErasureMatchesTheDataMap_R_ERASE_1_2_3_7(t *testing.T) {
	h := testHasher(t)
	onDeletion := func(e gdpr.FieldErasure) gdpr.FieldAction { return e.OnDeletion }
	underContract := func(e gdpr.FieldErasure) gdpr.FieldAction { return e.UnderContract }
	atContractEnd := func(e gdpr.FieldErasure) gdpr.FieldAction { return e.AtContractEnd }
	eraseUser := func(u gdpr.User) (gdpr.User, gdpr.ErasureResult) { return gdpr.EraseUser(u, h) }
	eraseAtEnd := func(u gdpr.User) (gdpr.User, gdpr.ErasureResult) { return gdpr.EraseUserAtContractEnd(u, h) }

	for r := gdpr.RoleAmbassador; r <= gdpr.RoleTemporary; r++ {
		table := tableOf(t, string(r.Kind()))
		column := onDeletion
		if r.UnderContractRole() {
			column = underContract
		}
		u := filledUser(r)
		t.Run(fmt.Sprintf("role_%d_deleted", r), func(t *testing.T) {
			checkErasure(t, h, table, erasureCase[gdpr.User]{fmt.Sprintf("EraseUser role %d", r), u, eraseUser, column}, userMarks(u))
		})
		t.Run(fmt.Sprintf("role_%d_at_contract_end", r), func(t *testing.T) {
			checkErasure(t, h, table, erasureCase[gdpr.User]{fmt.Sprintf("EraseUserAtContractEnd role %d", r), u, eraseAtEnd, atContractEnd}, userMarks(u))
		})
	}

	contacts := tableOf(t, string(gdpr.SubjectContact))
	c := filled[gdpr.Contact]()
	eraseContact := func(c gdpr.Contact) (gdpr.Contact, gdpr.ErasureResult) { return gdpr.EraseContact(c, h) }
	// EraseContact's callers (the cascade, the contact sweep, the brand's delete) record when
	// and by which erasure on the contact; the policy leaves both to them.
	contactMarks := func(path string, after any) error {
		if want := interfaces(valuesAt(reflect.ValueOf(c), path))[0]; after != want {
			return fmt.Errorf("the policy wrote it")
		}
		return nil
	}
	for _, col := range []struct {
		name   string
		action func(gdpr.FieldErasure) gdpr.FieldAction
	}{{"deleted", onDeletion}, {"at_contract_end", atContractEnd}} {
		t.Run("contact_"+col.name, func(t *testing.T) {
			checkErasure(t, h, contacts, erasureCase[gdpr.Contact]{"EraseContact", c, eraseContact, col.action}, contactMarks)
		})
	}
}

// TestErasureCheckCatchesADifferentMap: the field-by-field check fails when the map says
// something the erasure does not do, so it cannot pass vacuously.
func TestErasureCheckCatchesADifferentMap(t *testing.T) {
	h := testHasher(t)
	table := tableOf(t, string(gdpr.SubjectMember))
	for i, f := range table.Fields {
		if f.Path == "address.city" {
			table.Fields[i].Erasure.OnDeletion = gdpr.FieldErase // the code keeps the city
		}
	}
	u := filledUser(gdpr.RoleAmbassador)
	var rec recorder
	checkErasure(&rec, h, table, erasureCase[gdpr.User]{"EraseUser", u, func(u gdpr.User) (gdpr.User, gdpr.ErasureResult) {
		return gdpr.EraseUser(u, h)
	}, func(e gdpr.FieldErasure) gdpr.FieldAction { return e.OnDeletion }}, userMarks(u))
	if len(rec.failures) != 1 || !strings.Contains(rec.failures[0], `"address.city"`) {
		t.Errorf("a map that erases the city, against an erasure that keeps it, reported %q", rec.failures)
	}
}

// TestDataMapCounts prints the map's counts (fields per subject kind per action), the figures
// the README and the generated record quote, and checks the totals add up.
func TestDataMapCounts(t *testing.T) {
	for _, table := range gdpr.DataMap() {
		counts := gdpr.CountActions(table)
		total := 0
		for _, n := range counts.OnDeletion {
			total += n
		}
		if total != len(table.Fields) {
			t.Errorf("%s: %d fields counted, %d in the table", table.Kind, total, len(table.Fields))
		}
		t.Logf("%-9s %2d fields; deletion %v; under contract %v; contract end %v", table.Kind, len(table.Fields),
			counts.OnDeletion, counts.UnderContract, counts.AtContractEnd)
	}
}
