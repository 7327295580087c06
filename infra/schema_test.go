//go:build cgo

package infra_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The resource schemas Bicep itself checks against (Azure/bicep-types-az types.json, one file
// per provider namespace and API version). They live outside the repository, in the shared
// infra-facts folder CI lays beside it; without them this part of the test skips, saying why.

const ruleSchema = "schema"

// Property flags of bicep-types (ObjectTypePropertyFlags).
const (
	flagRequired = 1 << 0
	flagReadOnly = 1 << 1
)

// bicepTypesDir finds the schemas: $POPSELL_BICEP_TYPES, else ../shared/infra-facts/bicep-types
// beside the repository.
func bicepTypesDir() (string, string) {
	if d := os.Getenv("POPSELL_BICEP_TYPES"); d != "" {
		return d, "POPSELL_BICEP_TYPES"
	}
	return filepath.Join("..", "..", "shared", "infra-facts", "bicep-types"), "../shared/infra-facts/bicep-types"
}

type typeFile []map[string]any

// schemas indexes every resource type of every types.json below dir.
type schemas struct {
	byName map[string]schemaRef // lower-case "type@version"
	files  int
}

type schemaRef struct {
	file typeFile
	body any // {"$ref": "#/n"}
}

func loadSchemas(t testing.TB, dir string) (*schemas, error) {
	t.Helper()
	s := &schemas{byName: map[string]schemaRef{}}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "types.json" {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var tf typeFile
		if err := json.Unmarshal(raw, &tf); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		s.files++
		for _, ty := range tf {
			if ty["$type"] == "ResourceType" {
				if name, ok := ty["name"].(string); ok {
					s.byName[strings.ToLower(name)] = schemaRef{file: tf, body: ty["body"]}
				}
			}
		}
		return nil
	})
	return s, err
}

func (tf typeFile) deref(ref any) map[string]any {
	m, _ := ref.(map[string]any)
	r, _ := m["$ref"].(string)
	i, err := strconv.Atoi(strings.TrimPrefix(r, "#/"))
	if err != nil || i < 0 || i >= len(tf) {
		return nil
	}
	return tf[i]
}

// bicepOnly are keys of a resource body that Bicep consumes itself.
var bicepOnly = map[string]bool{"parent": true, "scope": true, "dependsOn": true}

// checkSchema compares a resource body with its schema: unknown property names, read-only
// properties, missing required ones, literal values of the wrong type, outside a closed
// enum, or outside the schema's bounds. Open enums only note a value they do not list.
// Values known only at deployment are not judged.
func (s *schemas) checkSchema(r *resourceInstance, note func(string)) ([]finding, bool) {
	key := strings.ToLower(r.decl.typ + "@" + r.decl.apiVersion)
	ref, ok := s.byName[key]
	if !ok {
		return nil, false
	}
	var out []finding
	c := schemaCheck{tf: ref.file, report: func(path, msg string, hard bool) {
		text := fmt.Sprintf("%s %s: %s", r.decl.symbol, path, msg)
		if hard {
			out = append(out, finding{ruleSchema, r.where(), text})
		} else {
			note(r.where() + ": " + text)
		}
	}}
	body := map[string]any{}
	for k, v := range r.body {
		if !bicepOnly[k] {
			body[k] = v
		}
	}
	c.value(ref.body, body, r.decl.typ)
	return out, true
}

type schemaCheck struct {
	tf     typeFile
	report func(path, msg string, hard bool)
}

func (c schemaCheck) value(ref any, v any, path string) {
	t := c.tf.deref(ref)
	if t == nil || v == nil {
		return
	}
	switch v.(type) {
	case unknown:
		return
	}
	switch t["$type"] {
	case "ObjectType":
		c.object(t, nil, v, path)
	case "DiscriminatedObjectType":
		m, ok := v.(map[string]any)
		if !ok {
			c.report(path, "must be an object, is "+show(v), true)
			return
		}
		disc, _ := t["discriminator"].(string)
		dv, known := m[disc].(string)
		if !known {
			return
		}
		elems, _ := t["elements"].(map[string]any)
		el, ok := elems[dv]
		if !ok {
			c.report(path+"."+disc, fmt.Sprintf("%q is none of %s", dv, strings.Join(keysOf(elems), ", ")), true)
			return
		}
		base, _ := t["baseProperties"].(map[string]any)
		c.object(c.tf.deref(el), base, v, path)
	case "UnionType":
		c.union(t, v, path)
	case "StringLiteralType":
		if s, ok := v.(string); ok && s != t["value"] {
			c.report(path, fmt.Sprintf("must be %q, is %q", t["value"], s), true)
		}
	case "StringType":
		s, ok := textOf(v)
		if !ok {
			c.report(path, "must be a string, is "+show(v), true)
			return
		}
		if _, isTemplate := v.(template); isTemplate {
			return
		}
		if n, ok := t["minLength"].(float64); ok && len(s) < int(n) {
			c.report(path, fmt.Sprintf("%q is shorter than %d", s, int(n)), true)
		}
		if n, ok := t["maxLength"].(float64); ok && len(s) > int(n) {
			c.report(path, fmt.Sprintf("%q is longer than %d", s, int(n)), true)
		}
		if p, ok := t["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(s) {
				c.report(path, fmt.Sprintf("%q does not match %s", s, p), true)
			}
		}
	case "IntegerType":
		i, ok := v.(int64)
		if !ok {
			c.report(path, "must be an integer, is "+show(v), true)
			return
		}
		if n, ok := t["minValue"].(float64); ok && float64(i) < n {
			c.report(path, fmt.Sprintf("%d is below %v", i, n), true)
		}
		if n, ok := t["maxValue"].(float64); ok && float64(i) > n {
			c.report(path, fmt.Sprintf("%d is above %v", i, n), true)
		}
	case "BooleanType":
		if _, ok := v.(bool); !ok {
			c.report(path, "must be true or false, is "+show(v), true)
		}
	case "ArrayType":
		list, ok := v.([]any)
		if !ok {
			c.report(path, "must be an array, is "+show(v), true)
			return
		}
		for i, e := range list {
			c.value(t["itemType"], e, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func (c schemaCheck) object(t map[string]any, base map[string]any, v any, path string) {
	m, ok := v.(map[string]any)
	if !ok {
		c.report(path, "must be an object, is "+show(v), true)
		return
	}
	props := map[string]any{}
	for k, p := range base {
		props[k] = p
	}
	if own, ok := t["properties"].(map[string]any); ok {
		for k, p := range own {
			props[k] = p
		}
	}
	for _, k := range keysOf(m) {
		p, ok := props[k].(map[string]any)
		if !ok {
			for name := range props {
				if strings.EqualFold(name, k) {
					c.report(path+"."+k, "is written "+name+" in the schema", false)
					p, ok = props[name].(map[string]any), true
				}
			}
		}
		if !ok {
			if extra, has := t["additionalProperties"]; has {
				c.value(extra, m[k], path+"."+k)
				continue
			}
			if strings.HasPrefix(k, "${") {
				continue // a key known only at deployment
			}
			c.report(path+"."+k, "is not a property of "+fmt.Sprint(t["name"]), true)
			continue
		}
		flags, _ := p["flags"].(float64)
		if int(flags)&flagReadOnly != 0 && int(flags)&flagRequired == 0 {
			c.report(path+"."+k, "is read-only", true)
			continue
		}
		c.value(p["type"], m[k], path+"."+k)
	}
	for _, k := range keysOf(props) {
		p, _ := props[k].(map[string]any)
		flags, _ := p["flags"].(float64)
		if int(flags)&flagRequired == 0 || int(flags)&flagReadOnly != 0 {
			continue
		}
		if _, ok := m[k]; !ok {
			c.report(path+"."+k, "is required", true)
		}
	}
}

func (c schemaCheck) union(t map[string]any, v any, path string) {
	elems, _ := t["elements"].([]any)
	var literals []string
	open, objects := false, false
	for _, e := range elems {
		et := c.tf.deref(e)
		switch et["$type"] {
		case "StringLiteralType":
			literals = append(literals, fmt.Sprint(et["value"]))
		case "StringType":
			open = true
		default:
			objects = true
		}
	}
	if objects || len(literals) == 0 {
		return
	}
	s, ok := v.(string)
	if !ok {
		if _, isText := textOf(v); !isText {
			c.report(path, "must be a string, is "+show(v), true)
		}
		return
	}
	for _, l := range literals {
		if l == s {
			return
		}
	}
	msg := fmt.Sprintf("%q is none of %s", s, strings.Join(literals, ", "))
	c.report(path, msg, !open)
}
