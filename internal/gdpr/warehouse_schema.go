package gdpr

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// The warehouse's tables, derived from the data map and nothing else (R-DWH-1, R-DWH-2): a
// column for each field the map sends to the warehouse, none for a field it omits. A field
// kept goes as stored; one anonymised goes as a warehouse-scoped keyed digest (an id) or its
// year (a date of birth). A list of the subject's own records (a contact's sales, its
// consent history) makes a table of its own, each row carrying its contact's keys.

// WarehouseSchemaVersion is written in every file's key-value metadata: a reader checks it
// before trusting the columns. Raise it whenever a column changes name, type or meaning.
const WarehouseSchemaVersion = "1"

// WarehouseType is a column's type in the warehouse's files.
type WarehouseType string

const (
	WarehouseString    WarehouseType = "string"    // UTF-8; null for an empty or erased value
	WarehouseInt       WarehouseType = "int64"     // never null
	WarehouseBool      WarehouseType = "bool"      // never null
	WarehouseTimestamp WarehouseType = "timestamp" // UTC, microseconds; null for none
	WarehouseYear      WarehouseType = "year"      // a year as int64; null for none
	// WarehouseDecimal is an exact amount, decimal(16, 4): a row holds it as an int64 count of
	// ten-thousandths, which the encoder stores unscaled; null for none.
	WarehouseDecimal WarehouseType = "decimal"
	// WarehouseList is a list of records whose fields are the column's Fields; a row holds it
	// as a [][]any.
	WarehouseList WarehouseType = "list"
)

// WarehouseDecimalScale is the number of decimals of a WarehouseDecimal: ISO 4217's largest
// minor unit (CLF, UYW). With 12 digits before the point (orders' bound) it fits 16 digits.
const (
	WarehouseDecimalScale     = 4
	WarehouseDecimalPrecision = 16
)

// WarehouseColumn is one column of a warehouse table.
type WarehouseColumn struct {
	Name string        `json:"name"` // snake_case
	Type WarehouseType `json:"type"`
	// Path is the data map's path of the field the column holds, "" for a list column.
	Path       string            `json:"path,omitempty"`
	Anonymised bool              `json:"anonymised,omitempty"`
	Fields     []WarehouseColumn `json:"fields,omitempty"` // a list column's record fields

	get func(reflect.Value) (any, error)
}

// WarehouseTable is one file per brand and day: its name, its subject kind in the data map,
// and its columns. Rows are []any, one value per column in order.
type WarehouseTable struct {
	Name    string            `json:"name"`
	Kind    SubjectKind       `json:"kind"`
	Columns []WarehouseColumn `json:"columns"`
	// List is the data map's list path whose elements are the rows ("sales[]"), "" for a table
	// of subjects.
	List string `json:"list,omitempty"`

	listIndex []int // the list's struct field in the subject's type
}

// The warehouse tables by name: the files of a brand's day.
const (
	TableMembers       = "members"
	TableExternalUsers = "external_users"
	TableContacts      = "contacts"
	TableSales         = "sales"
	TableConsentEvents = "consent_events"
)

// warehouseLists names the table each of a contact's lists makes. A list the map sends to the
// warehouse without a name here fails WarehouseTables, and its test.
var warehouseLists = map[string]string{"sales[]": TableSales, "consentHistory[]": TableConsentEvents}

// warehouseParentKeys are the contact's fields every row of a list table carries, under the
// names given, so that a sale or a consent event joins its contact and its member.
var warehouseParentKeys = []struct{ path, name string }{{"brandId", "brand_id"}, {"id", "contact_id"}, {"memberId", "member_id"}}

// warehouseDecimals are the string fields that hold exact decimal amounts: their type, not
// their presence, is what this says.
var warehouseDecimals = map[string]bool{"sales[].amount": true}

// WarehouseTables returns the five tables, in the order of the day's files. The hasher makes
// the ids' warehouse digests; nil leaves the extractors unable to anonymise (schema only).
func WarehouseTables() ([]WarehouseTable, error) { return warehouseTables(nil) }

func warehouseTables(ids *warehouseIDs) ([]WarehouseTable, error) {
	var out []WarehouseTable
	for _, dt := range DataMap() {
		if !dt.Subject {
			continue
		}
		name := map[string]string{string(SubjectMember): TableMembers, string(SubjectExternal): TableExternalUsers,
			string(SubjectContact): TableContacts}[dt.Kind]
		cols, err := warehouseColumns(dt.Type, dt.Fields, "", ids)
		if err != nil {
			return nil, fmt.Errorf("warehouse %s: %w", name, err)
		}
		out = append(out, WarehouseTable{Name: name, Kind: SubjectKind(dt.Kind), Columns: cols})
		for _, list := range warehouseListsOf(dt.Fields) {
			lt, ok := warehouseLists[list]
			if !ok {
				return nil, fmt.Errorf("warehouse: the data map sends %s of %s to the warehouse, which names no table for it", list, dt.Kind)
			}
			t := WarehouseTable{Name: lt, Kind: SubjectKind(dt.Kind), List: list}
			for _, k := range warehouseParentKeys {
				c, err := warehouseColumns(dt.Type, fieldsAt(dt.Fields, k.path), "", ids)
				if err != nil || len(c) != 1 {
					return nil, fmt.Errorf("warehouse %s: parent key %s not in the warehouse", lt, k.path)
				}
				c[0].Name = k.name
				t.Columns = append(t.Columns, c[0])
			}
			elem, err := fieldType(dt.Type, strings.TrimSuffix(list, "[]"))
			if err != nil {
				return nil, err
			}
			t.listIndex, _ = fieldIndex(dt.Type, strings.TrimSuffix(list, "[]"))
			cols, err := warehouseColumns(elem.Elem(), dt.Fields, list+".", ids)
			if err != nil {
				return nil, fmt.Errorf("warehouse %s: %w", lt, err)
			}
			t.Columns = append(t.Columns, cols...)
			out = append(out, t)
		}
	}
	return out, nil
}

func fieldsAt(fields []FieldClass, path string) []FieldClass {
	for _, f := range fields {
		if f.Path == path {
			return []FieldClass{f}
		}
	}
	return nil
}

// warehouseListsOf lists the top-level lists ("sales[]") with a field in the warehouse.
func warehouseListsOf(fields []FieldClass) []string {
	var lists []string
	for _, f := range fields {
		if f.Warehouse == WarehouseOmit {
			continue
		}
		if list, _, ok := strings.Cut(f.Path, "[]."); ok && !containsString(lists, list+"[]") {
			lists = append(lists, list+"[]")
		}
	}
	return lists
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// warehouseColumns makes the columns of the fields under prefix ("" or "sales[].") that the
// data map sends to the warehouse, reading them from values of typ. A nested list
// ("products[].sku") becomes one list column of its fields.
func warehouseColumns(typ reflect.Type, fields []FieldClass, prefix string, ids *warehouseIDs) ([]WarehouseColumn, error) {
	var cols []WarehouseColumn
	var nested []string
	for _, f := range fields {
		rest, ok := strings.CutPrefix(f.Path, prefix)
		if !ok || f.Warehouse == WarehouseOmit {
			continue
		}
		if list, _, ok := strings.Cut(rest, "[]."); ok {
			if _, own := warehouseLists[list+"[]"]; own && prefix == "" {
				continue // rows of a table of their own
			}
			if !containsString(nested, list) {
				nested = append(nested, list)
				ft, err := fieldType(typ, list)
				if err != nil {
					return nil, err
				}
				idx, _ := fieldIndex(typ, list)
				sub, err := warehouseColumns(ft.Elem(), fields, prefix+list+"[].", ids)
				if err != nil {
					return nil, err
				}
				cols = append(cols, WarehouseColumn{Name: snakeCase(list), Type: WarehouseList, Fields: sub,
					get: listGetter(idx, sub)})
			}
			continue
		}
		if strings.Contains(rest, "[]") {
			continue // a list of values, not records: none goes to the warehouse today
		}
		c, err := warehouseColumn(typ, f, rest, ids)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, nil
}

func warehouseColumn(typ reflect.Type, f FieldClass, rest string, ids *warehouseIDs) (WarehouseColumn, error) {
	idx, err := fieldIndex(typ, rest)
	if err != nil {
		return WarehouseColumn{}, err
	}
	ft := typ.FieldByIndex(idx).Type
	c := WarehouseColumn{Name: snakeCase(rest), Path: f.Path, Anonymised: f.Warehouse == WarehouseAnonymise}
	field := func(v reflect.Value) reflect.Value { return v.FieldByIndex(idx) }
	switch {
	case c.Anonymised && ft == reflect.TypeFor[Date]():
		c.Name, c.Type = c.Name+"_year", WarehouseYear
		c.get = func(v reflect.Value) (any, error) {
			if y := field(v).Interface().(Date).Year; y != 0 {
				return int64(y), nil
			}
			return nil, nil
		}
	case c.Anonymised && ft.Kind() == reflect.String:
		c.Type = WarehouseString
		c.get = func(v reflect.Value) (any, error) {
			if s := field(v).String(); s != "" {
				return ids.digest(s), nil
			}
			return nil, nil
		}
	case c.Anonymised:
		return c, fmt.Errorf("%s: no anonymisation for %s", f.Path, ft)
	case warehouseDecimals[f.Path] && ft.Kind() == reflect.String:
		c.Type = WarehouseDecimal
		c.get = func(v reflect.Value) (any, error) {
			s := field(v).String()
			if s == "" {
				return nil, nil
			}
			units, err := ParseWarehouseDecimal(s)
			if err != nil {
				return nil, fmt.Errorf("warehouse: %s: %w", f.Path, err)
			}
			return units, nil
		}
	case ft == reflect.TypeFor[time.Time]():
		c.Type = WarehouseTimestamp
		c.get = func(v reflect.Value) (any, error) {
			if t := field(v).Interface().(time.Time); !t.IsZero() {
				return t.UTC(), nil
			}
			return nil, nil
		}
	case ft.Kind() == reflect.String:
		c.Type = WarehouseString
		c.get = func(v reflect.Value) (any, error) {
			if s := field(v).String(); s != "" {
				return s, nil
			}
			return nil, nil
		}
	case ft.Kind() == reflect.Bool:
		c.Type = WarehouseBool
		c.get = func(v reflect.Value) (any, error) { return field(v).Bool(), nil }
	case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Int64:
		c.Type = WarehouseInt
		c.get = func(v reflect.Value) (any, error) { return field(v).Int(), nil }
	default:
		return c, fmt.Errorf("%s: no warehouse type for %s", f.Path, ft)
	}
	return c, nil
}

func listGetter(idx []int, fields []WarehouseColumn) func(reflect.Value) (any, error) {
	return func(v reflect.Value) (any, error) {
		s := v.FieldByIndex(idx)
		out := make([][]any, s.Len())
		for i := range s.Len() {
			row, err := warehouseRow(fields, s.Index(i), nil)
			if err != nil {
				return nil, err
			}
			out[i] = row
		}
		return out, nil
	}
}

// warehouseRow reads the columns' values from v, appending to row.
func warehouseRow(cols []WarehouseColumn, v reflect.Value, row []any) ([]any, error) {
	for _, c := range cols {
		x, err := c.get(v)
		if err != nil {
			return nil, err
		}
		row = append(row, x)
	}
	return row, nil
}

// fieldIndex finds the struct field of a dotted JSON path ("address.city").
func fieldIndex(typ reflect.Type, path string) ([]int, error) {
	var idx []int
	for seg := range strings.SplitSeq(path, ".") {
		if typ.Kind() != reflect.Struct {
			return nil, fmt.Errorf("%s: %s is not a record", path, typ)
		}
		found := false
		for i := range typ.NumField() {
			sf := typ.Field(i)
			if name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); name == seg {
				idx, typ, found = append(idx, i), sf.Type, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: no stored field %s", path, seg)
		}
	}
	return idx, nil
}

func fieldType(typ reflect.Type, path string) (reflect.Type, error) {
	idx, err := fieldIndex(typ, path)
	if err != nil {
		return nil, err
	}
	ft := typ.FieldByIndex(idx).Type
	if ft.Kind() != reflect.Slice {
		return nil, fmt.Errorf("%s is not a list", path)
	}
	return ft, nil
}

// snakeCase turns a JSON path into a column name: "optIns.newsletterAt" → "opt_ins_newsletter_at".
func snakeCase(path string) string {
	var b strings.Builder
	for i, r := range strings.ReplaceAll(path, "[]", "") {
		switch {
		case r == '.':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseWarehouseDecimal reads a stored amount, a plain decimal ("49.90") with at most
// WarehouseDecimalScale decimals and 12 digits before the point, as ten-thousandths. Orders'
// amounts are checked when they arrive (internal/money); this refuses anything else rather
// than round it.
func ParseWarehouseDecimal(s string) (int64, error) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || (hasPoint && frac == "") || len(whole) > WarehouseDecimalPrecision-WarehouseDecimalScale ||
		len(frac) > WarehouseDecimalScale {
		return 0, errNotWarehouseDecimal
	}
	var units int64
	for _, d := range whole + frac + strings.Repeat("0", WarehouseDecimalScale-len(frac)) {
		if d < '0' || d > '9' {
			return 0, errNotWarehouseDecimal
		}
		units = units*10 + int64(d-'0')
	}
	return units, nil
}

var errNotWarehouseDecimal = Errorf(CodeInvalid, "not an exact decimal of at most 12 digits and 4 decimals")
