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

// checkKeys checks body, one JSON value, against the type of v.
func checkKeys(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			if err != nil {
				return err
			}
			return &keyError{"body must be a JSON object"}
		}
		return checkObject(dec, t, "")
	}
	return checkValue(dec, t, "")
}

// checkValue consumes one value of the stream whose Go type is t.
func checkValue(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
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
		return checkObject(dec, t, path)
	case d == '{':
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Map && !custom {
			elem = t.Elem()
		}
		return checkMap(dec, elem, path)
	case d == '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && !custom {
			elem = t.Elem()
		}
		for dec.More() {
			if err := checkValue(dec, elem, path+"[]"); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ]
		return err
	}
	return nil
}

// checkObject consumes the members of an object decoded into struct t, after its '{'.
func checkObject(dec *json.Decoder, t reflect.Type, path string) error {
	fields := fieldsOf(t)
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		f, ok := fields.exact[key]
		if !ok {
			if name, ok := fields.folded[strings.ToLower(key)]; ok {
				return &keyError{"field names are case-sensitive: write " + join(path, name)}
			}
			return &keyError{unknownField(path, fields)}
		}
		if seen[key] {
			return &keyError{"field " + join(path, key) + " appears twice"}
		}
		seen[key] = true
		if err := checkValue(dec, f, join(path, key)); err != nil {
			return err
		}
	}
	_, err := dec.Token() // }
	return err
}

// checkMap consumes the members of an object decoded into a map (elem: its value type) or
// into something we do not inspect (elem nil), after its '{'. Keys are the client's data:
// a repeated one is refused without being named.
func checkMap(dec *json.Decoder, elem reflect.Type, path string) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if seen[key] {
			where := "the body"
			if path != "" {
				where = "field " + path
			}
			return &keyError{"a key appears twice in " + where}
		}
		seen[key] = true
		if err := checkValue(dec, elem, path+".*"); err != nil {
			return err
		}
	}
	_, err := dec.Token() // }
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
