package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// encoding/json matches object keys to fields case-insensitively and lets the last of two
// equal keys win. For a body that is proof (R-SIGNUP-1's acceptance of the T&C) that is too
// lenient: {"acceptTerms":false,"ACCEPTTERMS":true} would create an account. checkKeys walks
// the body beside the type it decodes into and refuses, before anything is decoded, a key
// that appears twice in one object, a key that names a field in another case, a key that
// names no field, and a body that is not an object. Messages name fields of our own types,
// never a key the client sent.

// keyError is a body refused by checkKeys.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// checkKeys checks body, one JSON value, against the type of v. It walks the body once, and
// keeps only the names of the fields it is in, as a stack it joins for a message: the cost is
// linear in the body whatever its shape (issue 24). unmarshalStrict also bounds the depth
// before, so the recursion is at most MaxJSONDepth deep.
func checkKeys(body []byte, v any) error {
	c := &keyChecker{dec: json.NewDecoder(bytes.NewReader(body))}
	c.dec.UseNumber()
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		if tok, err := c.dec.Token(); err != nil || tok != json.Delim('{') {
			if err != nil {
				return err
			}
			return &keyError{"body must be a JSON object"}
		}
		return c.object(t)
	}
	return c.value(t)
}

// keyChecker walks one body. path holds the segments of the place being checked, each with
// its separator ("retention", ".erasureGrace", "[]", ".*"), only our own field names.
type keyChecker struct {
	dec  *json.Decoder
	path []string
}

// where is the path of the value being checked, for a message; "" at the top.
func (c *keyChecker) where() string { return strings.Join(c.path, "") }

// at is the path of the field name below the value being checked.
func (c *keyChecker) at(name string) string { return join(c.where(), name) }

// within checks one value under the path segment seg.
func (c *keyChecker) within(seg string, t reflect.Type) error {
	c.path = append(c.path, seg)
	err := c.value(t)
	c.path = c.path[:len(c.path)-1]
	return err
}

// value consumes one value of the stream whose Go type is t.
func (c *keyChecker) value(t reflect.Type) error {
	tok, err := c.dec.Token()
	if err != nil {
		return err
	}
	d, isDelim := tok.(json.Delim)
	if !isDelim {
		return nil // a scalar: its type is encoding/json's to check
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	custom := t != nil && reflect.PointerTo(t).Implements(unmarshalerType)
	switch {
	case d == '{' && t != nil && t.Kind() == reflect.Struct && !custom:
		return c.object(t)
	case d == '{':
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Map && !custom {
			elem = t.Elem()
		}
		return c.mapMembers(elem)
	case d == '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && !custom {
			elem = t.Elem()
		}
		for c.dec.More() {
			if err := c.within("[]", elem); err != nil {
				return err
			}
		}
		_, err := c.dec.Token() // ]
		return err
	}
	return nil
}

// object consumes the members of an object decoded into struct t, after its '{'.
func (c *keyChecker) object(t reflect.Type) error {
	fields := fieldsOf(t)
	seen := map[string]bool{}
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		f, ok := fields.exact[key]
		if !ok {
			if name, ok := fields.folded[strings.ToLower(key)]; ok {
				return &keyError{"field names are case-sensitive: write " + c.at(name)}
			}
			return &keyError{unknownField(c.where(), fields)}
		}
		if seen[key] {
			return &keyError{"field " + c.at(key) + " appears twice"}
		}
		seen[key] = true
		seg := key
		if len(c.path) > 0 {
			seg = "." + key
		}
		if err := c.within(seg, f); err != nil {
			return err
		}
	}
	_, err := c.dec.Token() // }
	return err
}

// mapMembers consumes the members of an object decoded into a map (elem: its value type) or
// into something we do not inspect (elem nil), after its '{'. Keys are the client's data:
// a repeated one is refused without being named.
func (c *keyChecker) mapMembers(elem reflect.Type) error {
	seen := map[string]bool{}
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if seen[key] {
			where := "the body"
			if len(c.path) > 0 {
				where = "field " + c.where()
			}
			return &keyError{"a key appears twice in " + where}
		}
		seen[key] = true
		if err := c.within(".*", elem); err != nil {
			return err
		}
	}
	_, err := c.dec.Token() // }
	return err
}

func unknownField(path string, f structFields) string {
	where := "in the body"
	if path != "" {
		where = "in " + path
	}
	return "unknown field " + where + "; the fields are " + strings.Join(f.names, ", ")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// structFields are the JSON names of a struct's fields, as encoding/json reads them.
type structFields struct {
	exact  map[string]reflect.Type
	folded map[string]string // lower case → the exact name
	names  []string
}

var fieldCache sync.Map // reflect.Type → structFields

func fieldsOf(t reflect.Type) structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(structFields)
	}
	f := structFields{exact: map[string]reflect.Type{}, folded: map[string]string{}}
	for sf := range t.Fields() {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			inner := fieldsOf(sf.Type) // promoted fields, as encoding/json reads them
			for _, n := range inner.names {
				f.exact[n], f.folded[strings.ToLower(n)] = inner.exact[n], n
				f.names = append(f.names, n)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f.exact[name], f.folded[strings.ToLower(name)] = sf.Type, name
		f.names = append(f.names, name)
	}
	fieldCache.Store(t, f)
	return f
}
