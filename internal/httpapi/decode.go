package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/jsondepth"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// MaxJSONDepth bounds how deeply an /api/* JSON body nests. The deepest body the API takes,
// an order's products or a sync batch's contacts, is 3 levels; the bound keeps the cost of a
// body linear in its size however it is nested (issue 24).
const MaxJSONDepth = 16

var errEmptyBody = &httpError{http.StatusBadRequest, "invalid", "request body is empty"}

// readBody reads the whole body under the size limit.
func readBody(r *http.Request) ([]byte, error) { return readBodyUpTo(r, MaxBodyBytes) }

// readBodyUpTo reads the whole body, refusing one over limit bytes.
func readBodyUpTo(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	b, err := readAllSized(io.LimitReader(r.Body, limit+1), r.ContentLength)
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, "invalid", "could not read the request body"}
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(limit)
	}
	return b, nil
}

// readAllSized is io.ReadAll starting from a buffer of the declared length (one byte more, to
// see the end), which limitBodies has reserved: reading a large body by doubling would cost
// about twice its size in garbage. A body longer than declared still grows the buffer.
func readAllSized(r io.Reader, declared int64) ([]byte, error) {
	b := make([]byte, 0, max(declared+1, 512))
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the next capacity
		}
	}
}

func tooLarge(limit int64) error {
	return &httpError{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body exceeds %d bytes", limit)}
}

// decodeJSON reads one JSON object into v, strictly: unknown fields, trailing data and wrong
// types are refused with a message naming the field, never echoing a value. An empty body is
// errEmptyBody, which routes whose input is optional may accept.
func decodeJSON(r *http.Request, v any) error {
	body, err := readJSON(r, "application/json")
	if err != nil {
		return err
	}
	return unmarshalStrict(body, v)
}

// readJSON reads a body of the media type mediaType (or of none declared), refusing another
// type with 415 and an empty body with errEmptyBody.
func readJSON(r *http.Request, mediaType string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != mediaType {
			return nil, &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "send " + mediaType}
		}
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errEmptyBody
	}
	return body, nil
}

func unmarshalStrict(body []byte, v any) error {
	if err := jsondepth.Check(body, MaxJSONDepth); err != nil {
		return &httpError{http.StatusBadRequest, "invalid", describeJSONError(err, v)}
	}
	if err := checkKeys(body, v); err != nil {
		return &httpError{http.StatusBadRequest, "invalid", describeJSONError(err, v)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &httpError{http.StatusBadRequest, "invalid", describeJSONError(err, v)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &httpError{http.StatusBadRequest, "invalid", "body must hold exactly one JSON value"}
	}
	return nil
}

// describeJSONError says what is wrong with a body without quoting any of it (R-OPS-1: a body
// may hold an address anywhere, even in a key).
func describeJSONError(err error, v any) string {
	var (
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		key  *keyError
		tim  *time.ParseError
		rule *gdpr.Error
		deep *jsondepth.Error
	)
	switch {
	case errors.As(err, &key):
		return key.msg
	case errors.As(err, &deep):
		return "body is " + deep.Error()
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %s must be a JSON %s", ownPath(reflect.TypeOf(v), typ.Field), jsonKind(typ.Type.Kind().String()))
		}
		return "body must be a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON: unexpected end"
	case errors.As(err, &tim):
		return "invalid value: times must be RFC 3339, such as 2026-01-02T15:04:05Z"
	case errors.As(err, &rule):
		// Our own UnmarshalJSON methods (dates, durations) state the rule, never the value.
		return "invalid value: " + rule.Message
	}
	return "invalid value"
}

// ownPath keeps the segments of a field path that name fields of t; a segment that is the
// client's own key (of a map) is written as *.
func ownPath(t reflect.Type, field string) string {
	segs := strings.Split(field, ".")
	for i, seg := range segs {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			t = t.Elem()
		}
		switch {
		case t != nil && t.Kind() == reflect.Struct && fieldsOf(t).exact[seg] != nil:
			t = fieldsOf(t).exact[seg]
		case t != nil && t.Kind() == reflect.Map:
			segs[i], t = "*", t.Elem()
		default:
			segs[i], t = "*", nil
		}
	}
	return strings.Join(segs, ".")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "number"
	case "slice", "array":
		return "array"
	}
	return "object"
}
