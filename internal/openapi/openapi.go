// Package openapi builds OpenAPI 3.1 documents from Go types: the schemas of request and
// response bodies are the JSON Schema (2020-12, OpenAPI 3.1's dialect) of the named Go types
// the handlers decode and encode, found by reflection over their json tags, so a field added
// to a body type is in the document without a second edit.
package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Schema is a JSON Schema object.
type Schema = map[string]any

// Info is the document's info object.
type Info struct {
	Title, Version, Description string
}

// SecurityScheme is one way a route authenticates its caller (OpenAPI's securityScheme object).
type SecurityScheme struct {
	Name   string // the key operations name it by
	Scheme Schema
}

// Param is a query or header parameter; path parameters are read from the path itself.
type Param struct {
	Name, In, Description string
	Required              bool
	Schema                Schema
}

// Body is a request or response body of one media type.
type Body struct {
	// Type is the Go type whose JSON is the body; nil with Schema set, or for no schema (a
	// zip, a page).
	Type        reflect.Type
	Schema      Schema
	ContentType string // application/json when empty
	Example     any    // a value, or json.RawMessage
}

// Response is one status's answer; Status 0 is the default response.
type Response struct {
	Status      int
	Description string
	Body        *Body
}

// Operation is one route: method and path as the Go router spells them ("GET /api/x/{id}").
type Operation struct {
	Pattern     string
	ID          string // operationId
	Summary     string
	Description string
	Tags        []string
	Security    []string // scheme names, any of which suffices; none means public
	Params      []Param
	Request     *Body
	Responses   []Response
	// ExternalDocs points to the route's normative description elsewhere (SCIM's RFCs).
	ExternalDocs string
	// Page marks a route a person's browser calls: its request body may also come as the
	// page's form (application/x-www-form-urlencoded, the same fields), and any answer may
	// be a page (text/html) for a browser that asks for one.
	Page bool
}

// Document accumulates operations and the component schemas of the types they name.
type Document struct {
	info       Info
	security   []SecurityScheme
	ops        []Operation
	components map[string]Schema
	names      map[typeUse]string
	defined    map[reflect.Type]Schema
}

// New starts a document.
func New(info Info, security ...SecurityScheme) *Document {
	return &Document{info: info, security: security, components: map[string]Schema{},
		names: map[typeUse]string{}, defined: map[reflect.Type]Schema{}}
}

// Define gives t a schema of its own, for a type whose JSON is not its fields (a type with its
// own MarshalJSON: a date, a period, an amount).
func (d *Document) Define(t reflect.Type, s Schema) { d.defined[t] = s }

// Add appends an operation.
func (d *Document) Add(op Operation) { d.ops = append(d.ops, op) }

// Patterns lists the router patterns of the operations, as added.
func (d *Document) Patterns() []string {
	out := make([]string, len(d.ops))
	for i, op := range d.ops {
		out[i] = op.Pattern
	}
	return out
}

// pathParams are the names of a path's {parameters}, in order.
func pathParams(path string) []string {
	var names []string
	for rest := path; ; {
		_, after, ok := strings.Cut(rest, "{")
		if !ok {
			return names
		}
		name, tail, ok := strings.Cut(after, "}")
		if !ok {
			return names
		}
		names = append(names, name)
		rest = tail
	}
}

// MarshalJSON renders the OpenAPI 3.1 document.
func (d *Document) MarshalJSON() ([]byte, error) {
	paths := map[string]map[string]any{}
	for _, op := range d.ops {
		method, path, ok := strings.Cut(op.Pattern, " ")
		if !ok {
			return nil, fmt.Errorf("openapi: pattern %q has no method", op.Pattern)
		}
		item := paths[path]
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		key := strings.ToLower(method)
		if _, dup := item[key]; dup {
			return nil, fmt.Errorf("openapi: %s documented twice", op.Pattern)
		}
		o, err := d.operation(op, path)
		if err != nil {
			return nil, err
		}
		item[key] = o
	}
	schemes := map[string]any{}
	for _, s := range d.security {
		schemes[s.Name] = s.Scheme
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info":              map[string]any{"title": d.info.Title, "version": d.info.Version, "description": d.info.Description},
		"paths":             paths,
		"components":        map[string]any{"schemas": d.components, "securitySchemes": schemes},
	}
	return json.Marshal(doc)
}

func (d *Document) operation(op Operation, path string) (map[string]any, error) {
	o := map[string]any{"summary": op.Summary}
	if op.ID != "" {
		o["operationId"] = op.ID
	}
	if op.Description != "" {
		o["description"] = op.Description
	}
	if len(op.Tags) > 0 {
		o["tags"] = op.Tags
	}
	if op.ExternalDocs != "" {
		o["externalDocs"] = map[string]string{"url": op.ExternalDocs}
	}
	sec := []map[string][]string{}
	for _, s := range op.Security {
		sec = append(sec, map[string][]string{s: {}})
	}
	o["security"] = sec // an empty list says "public" explicitly
	var params []map[string]any
	for _, name := range pathParams(path) {
		params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": Schema{"type": "string"}})
	}
	for _, p := range op.Params {
		s := p.Schema
		if s == nil {
			s = Schema{"type": "string"}
		}
		param := map[string]any{"name": p.Name, "in": p.In, "required": p.Required, "schema": s}
		if p.Description != "" {
			param["description"] = p.Description
		}
		params = append(params, param)
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.Request != nil {
		content, err := d.content(op.Request, true)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s request: %w", op.Pattern, err)
		}
		if op.Page {
			content["application/x-www-form-urlencoded"] = content["application/json"]
		}
		o["requestBody"] = map[string]any{"required": true, "content": content}
	}
	responses := map[string]any{}
	for _, r := range op.Responses {
		key := "default"
		if r.Status != 0 {
			key = fmt.Sprint(r.Status)
		}
		desc := r.Description
		if desc == "" {
			desc = http.StatusText(r.Status)
		}
		resp := map[string]any{"description": desc}
		if r.Body != nil {
			content, err := d.content(r.Body, false)
			if err != nil {
				return nil, fmt.Errorf("openapi: %s response %s: %w", op.Pattern, key, err)
			}
			resp["content"] = content
		}
		if op.Page {
			content, _ := resp["content"].(map[string]any)
			if content == nil {
				content = map[string]any{}
				resp["content"] = content
			}
			content["text/html"] = map[string]any{}
		}
		responses[key] = resp
	}
	if len(responses) == 0 {
		return nil, fmt.Errorf("openapi: %s has no response", op.Pattern)
	}
	o["responses"] = responses
	return o, nil
}

func (d *Document) content(b *Body, input bool) (map[string]any, error) {
	ct := b.ContentType
	if ct == "" {
		ct = "application/json"
	}
	media := map[string]any{}
	switch {
	case b.Schema != nil:
		media["schema"] = b.Schema
	case b.Type != nil:
		media["schema"] = d.schema(b.Type, input)
	}
	if b.Example != nil {
		media["example"] = b.Example
	}
	return map[string]any{ct: media}, nil
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	durationType      = reflect.TypeFor[time.Duration]()
	rawType           = reflect.TypeFor[json.RawMessage]()
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// typeUse is a type as an answer carries it or as a request sends it: an answer always holds
// the fields encoding/json writes whatever their value, a request may leave any out, so
// the two get a component each where both occur.
type typeUse struct {
	t     reflect.Type
	input bool
}

// Schema is the JSON Schema of t's JSON encoding in an answer.
func (d *Document) Schema(t reflect.Type) Schema { return d.schema(t, false) }

// schema is the JSON Schema of t's JSON encoding: a $ref to a component for a named struct
// type, inline otherwise. A type with its own MarshalJSON must be Defined first: its fields
// say nothing of its JSON, and guessing would document a lie. In input, no field is required.
func (d *Document) schema(t reflect.Type, input bool) Schema {
	if s, ok := d.defined[t]; ok {
		return s
	}
	switch {
	case t == timeType:
		return Schema{"type": "string", "format": "date-time"}
	case t == rawType:
		return Schema{}
	case t == durationType:
		return Schema{"type": "integer"}
	}
	if t.Kind() != reflect.Pointer && (t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType)) {
		panic(fmt.Sprintf("openapi: %v marshals itself: Define its schema", t))
	}
	if t.Kind() != reflect.Pointer && t.Implements(textMarshalerType) {
		return Schema{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return Schema{"anyOf": []Schema{d.schema(t.Elem(), input), {"type": "null"}}}
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return Schema{"type": "string", "contentEncoding": "base64"}
		}
		// A nil slice encodes as null.
		return Schema{"type": []string{"array", "null"}, "items": d.nullableInput(d.schema(t.Elem(), input), input)}
	case reflect.Map:
		return Schema{"type": []string{"object", "null"}, "additionalProperties": d.nullableInput(d.schema(t.Elem(), input), input)}
	case reflect.Interface:
		return Schema{}
	case reflect.Struct:
		if t.Name() == "" {
			return d.object(t, input)
		}
		use := typeUse{t, input}
		name, ok := d.names[use]
		if !ok {
			name = d.componentName(t, input)
			d.names[use] = name
			d.components[name] = Schema{} // a recursive type refers to itself
			d.components[name] = d.object(t, input)
		}
		return Schema{"$ref": "#/components/schemas/" + name}
	}
	panic(fmt.Sprintf("openapi: no JSON Schema for %v", t))
}

// nullableInput lets a request send null where s is expected: encoding/json takes null for
// any field, element or map value (it leaves the zero value), and a merge patch sends null
// to remove one. Answers say exactly what they hold.
func (d *Document) nullableInput(s Schema, input bool) Schema {
	if !input {
		return s
	}
	return Schema{"anyOf": []Schema{s, {"type": "null"}}}
}

// componentName is the type's name, prefixed by its package's where two packages share one.
func (d *Document) componentName(t reflect.Type, input bool) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 { // generic: Page[pkg.T] → Page
		name = name[:i]
	}
	name = strings.ToUpper(name[:1]) + name[1:]
	if input {
		name += "Input"
	}
	if _, taken := d.components[name]; !taken {
		return name
	}
	pkg := t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:]
	return pkg + "." + name
}

// object is a struct's schema by encoding/json's rules: json tags name the properties, "-"
// hides a field, omitempty and omitzero make it optional, and embedded structs without a
// tag lend their fields.
func (d *Document) object(t reflect.Type, input bool) Schema {
	props := map[string]any{}
	var required []string
	d.fields(t, input, props, &required)
	sort.Strings(required)
	s := Schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (d *Document) fields(t reflect.Type, input bool, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				d.fields(ft, input, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := d.schema(f.Type, input)
		if strings.Contains(opts, "string") {
			s = Schema{"type": "string"}
		}
		s = d.nullableInput(s, input)
		props[name] = s
		optional := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		if !optional && !input {
			*required = append(*required, name)
		}
	}
}
