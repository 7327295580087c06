package gdpr_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// exportSchemaPath is the documented schema of export.json.
const exportSchemaPath = "../../docs/export/export.schema.json"

func loadExportSchema(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile(exportSchemaPath)
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

// schemaCheck validates v against the subset of JSON Schema 2020-12 the export schema uses:
// type, const, enum, required, properties, additionalProperties: false, items, $ref into
// $defs, pattern, format date-time. A keyword outside the subset fails the check, so the
// schema cannot grow past what this test can hold it to.
type schemaCheck struct {
	root map[string]any
	errs []string
}

var knownKeywords = map[string]bool{"$schema": true, "$id": true, "title": true, "description": true, "type": true,
	"const": true, "enum": true, "required": true, "properties": true, "additionalProperties": true, "items": true,
	"$ref": true, "$defs": true, "pattern": true, "format": true}

func (c *schemaCheck) fail(at, format string, args ...any) {
	c.errs = append(c.errs, at+": "+fmt.Sprintf(format, args...))
}

func (c *schemaCheck) check(at string, s map[string]any, v any) {
	for k := range s {
		if !knownKeywords[k] {
			c.fail(at, "schema keyword %q is not supported by this check", k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		def, ok := c.root["$defs"].(map[string]any)[name].(map[string]any)
		if !ok {
			c.fail(at, "unknown $ref %s", ref)
			return
		}
		c.check(at, def, v)
	}
	if want, ok := s["const"]; ok && fmt.Sprint(want) != fmt.Sprint(v) {
		c.fail(at, "not the constant %v", want)
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return e == v }) {
		c.fail(at, "%v is not one of %v", v, enum)
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			c.fail(at, "not an object")
			return
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := m[r]; !ok {
				c.fail(at, "missing %s", r)
			}
		}
		for k, val := range m {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					c.fail(at, "property %s is not in the schema", k)
				}
				continue
			}
			c.check(at+"."+k, ps, val)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			c.fail(at, "not an array")
			return
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range a {
				c.check(fmt.Sprintf("%s[%d]", at, i), items, e)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			c.fail(at, "not a string")
			return
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			c.fail(at, "does not match %s", p)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				c.fail(at, "not an RFC 3339 time")
			}
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			c.fail(at, "not an integer")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			c.fail(at, "not a boolean")
		}
	}
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		out = append(out, e.(string))
	}
	return out
}

// requireExportSchema validates an export.json against docs/export/export.schema.json.
func requireExportSchema(t testing.TB, exportJSON []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(exportJSON, &v), "export.json is JSON")
	c := &schemaCheck{root: loadExportSchema(t)}
	c.check("$", c.root, v)
	require.Empty(t, c.errs, "export.json breaks its schema")
}

// TestExportSchemaFollowsTheDataMap: the schema's profile, contact and erasure objects name
// exactly the top-level fields the data map exports, so the documented shape cannot drift
// from what the export writes (R-RIGHTS-1).
func TestExportSchemaFollowsTheDataMap(t *testing.T) {
	defs := loadExportSchema(t)["$defs"].(map[string]any)
	for def, kind := range map[string]string{"profile": "member", "contact": "contact", "erasure": "erasures"} {
		var want []string
		for _, table := range gdpr.DataMap() {
			if table.Kind != kind {
				continue
			}
			for _, f := range table.Fields {
				top, _, _ := strings.Cut(strings.SplitN(f.Path, "[]", 2)[0], ".")
				if f.Export && !slices.Contains(want, top) {
					want = append(want, top)
				}
			}
		}
		var got []string
		for p := range defs[def].(map[string]any)["properties"].(map[string]any) {
			got = append(got, p)
		}
		slices.Sort(want)
		slices.Sort(got)
		require.Equal(t, want, got, "$defs.%s and the data map's exported %s fields", def, kind)
	}
	require.Equal(t, gdpr.ExportSchemaVersion, loadExportSchema(t)["properties"].(map[string]any)["schemaVersion"].(map[string]any)["const"])
}

// TestExportSchemaCheckRefuses: the check fails on what breaks the schema, so its passing
// means something.
func TestExportSchemaCheckRefuses(t *testing.T) {
	root := loadExportSchema(t)
	for name, doc := range map[string]string{
		"missing_required": `{"schemaVersion":"1.0"}`,
		"unknown_property": `{"schemaVersion":"1.0","scope":"subject","exportId":"x","requestId":"r","generatedAt":"2026-01-01T00:00:00Z","controller":{"brandId":"b","name":"n"},"profiles":[],"consents":[],"contacts":[],"erasures":[],"requests":[],"files":[],"passwordHash":"x"}`,
		"bad_time":         `{"schemaVersion":"1.0","scope":"subject","exportId":"x","requestId":"r","generatedAt":"yesterday","controller":{"brandId":"b","name":"n"},"profiles":[],"consents":[],"contacts":[],"erasures":[],"requests":[],"files":[]}`,
		"bad_scope":        `{"schemaVersion":"1.0","scope":"all","exportId":"x","requestId":"r","generatedAt":"2026-01-01T00:00:00Z","controller":{"brandId":"b","name":"n"},"profiles":[],"consents":[],"contacts":[],"erasures":[],"requests":[],"files":[]}`,
	} {
		var v any
		require.NoError(t, json.Unmarshal([]byte(doc), &v))
		c := &schemaCheck{root: root}
		c.check("$", root, v)
		require.NotEmpty(t, c.errs, name)
	}
}
