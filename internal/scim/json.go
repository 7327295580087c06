package scim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"popsell-gdpr/internal/jsondepth"
)

// Limits on decoded values. The handlers cap the body (1 MiB); these keep one attribute from
// carrying more than a user record plausibly needs.
const (
	maxStringBytes = 2048
	maxMultiValues = 20
)

// MaxDepth bounds how deeply a SCIM body nests; msgBodyTooDeep names it. The deepest body
// a client needs, a PATCH replacing a user's emails, is 5 levels; the members split below
// walks a body level by level, and the bound keeps that linear in the body (issue 24).
const MaxDepth = 16

// validBody refuses a body nested deeper than MaxDepth, then one that is not valid JSON:
// every decoder of this package calls it first, once, at the top.
func validBody(body []byte) *Error {
	if jsondepth.Check(body, MaxDepth) != nil {
		return badRequest(ScimTypeInvalidSyntax, msgBodyTooDeep)
	}
	if !json.Valid(body) {
		return badRequest(ScimTypeInvalidSyntax, msgBodyNotJSON)
	}
	return nil
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// members splits a JSON object into its members. raw must be valid JSON (checked by the
// caller with validBody, once, at the top). It reports ok=false when raw is not an object,
// and a duplicateKey error when two names are equal ignoring case: SCIM attribute names are
// case-insensitive (RFC 7643 §2.1), so {"active":true,"Active":false} is ambiguous and a
// guess could deactivate the wrong way.
func members(raw json.RawMessage) (ms []member, ok bool, err *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, e := dec.Token(); e != nil {
		return nil, false, badRequest(ScimTypeInvalidSyntax, msgBodyNotJSON)
	}
	seen := map[string]bool{} // folded names: a body can hold very many keys
	for dec.More() {
		t, e := dec.Token()
		if e != nil {
			return nil, false, badRequest(ScimTypeInvalidSyntax, msgBodyNotJSON)
		}
		name, _ := t.(string)
		var v json.RawMessage
		if e := dec.Decode(&v); e != nil {
			return nil, false, badRequest(ScimTypeInvalidSyntax, msgBodyNotJSON)
		}
		folded := foldKey(name)
		if seen[folded] {
			return nil, false, badRequest(ScimTypeInvalidSyntax, msgDuplicateKey)
		}
		seen[folded] = true
		ms = append(ms, member{name, v})
	}
	return ms, true, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// decodeString reads a string attribute value. null means unassigned (RFC 7643 §2.5). A JSON
// number is taken as its literal text: some clients send an employee id or externalId
// unquoted, and no information is lost by keeping the digits.
func decodeString(raw json.RawMessage) (s string, null bool, err *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false, badRequest(ScimTypeInvalidValue, msgNotString)
	}
	switch c := raw[0]; {
	case c == '"':
		if e := json.Unmarshal(raw, &s); e != nil {
			return "", false, badRequest(ScimTypeInvalidValue, msgNotString)
		}
	case c == '-' || isDigit(c):
		s = string(raw)
	case string(raw) == "null":
		return "", true, nil
	default:
		return "", false, badRequest(ScimTypeInvalidValue, msgNotString)
	}
	if len(s) > maxStringBytes {
		return "", false, badRequest(ScimTypeInvalidValue, msgStringTooLong)
	}
	return s, false, nil
}

// decodeBool reads a boolean attribute value: a JSON boolean, or the strings "true" and
// "false" in any case. Entra ID sends "active":"False" and "primary":"True" (its SCIM
// compatibility notes, "Requests made to disable users", without the aadOptscim062020
// flag), and its reference tests POST "active":"True".
func decodeBool(raw json.RawMessage) (b, null bool, err *Error) {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "true":
		return true, false, nil
	case "false":
		return false, false, nil
	case "null":
		return false, true, nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if b, ok := parseBoolWord(s); ok {
				return b, false, nil
			}
		}
	}
	return false, false, badRequest(ScimTypeInvalidValue, msgNotBoolean)
}

func parseBoolWord(s string) (b, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case equalFold(s, "true"):
		return true, true
	case equalFold(s, "false"):
		return false, true
	}
	return false, false
}

// decodeSchemas reads the schemas attribute (RFC 7643 §3): an array of URIs.
func decodeSchemas(raw json.RawMessage) ([]string, *Error) {
	var ss []string
	if json.Unmarshal(raw, &ss) != nil || ss == nil {
		return nil, badRequest(ScimTypeInvalidSyntax, msgSchemasNotList)
	}
	return ss, nil
}

func containsFold(ss []string, s string) bool {
	for _, x := range ss {
		if equalFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// multiValues reads a multi-valued attribute: an array, or a single object where clients
// send one value without the brackets. null or [] means unassigned.
func multiValues(raw json.RawMessage) ([]json.RawMessage, *Error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return nil, badRequest(ScimTypeInvalidValue, msgNotMulti)
	case raw[0] == '{':
		return []json.RawMessage{raw}, nil
	case raw[0] == '[':
		var vs []json.RawMessage
		if json.Unmarshal(raw, &vs) != nil {
			return nil, badRequest(ScimTypeInvalidValue, msgNotMulti)
		}
		if len(vs) > maxMultiValues {
			return nil, badRequest(ScimTypeInvalidValue, msgTooManyValues)
		}
		return vs, nil
	case string(raw) == "null":
		return nil, nil
	}
	return nil, badRequest(ScimTypeInvalidValue, msgNotMulti)
}

// jfield and jobj are an ordered JSON object: responses keep the attribute order of RFC 7643
// §8.2 (schemas, id, externalId, userName, ...), which encoding/json's maps would sort away.
type jfield struct {
	def *attrDef
	val any // string, bool, jobj, []jobj or []string
}

type jobj []jfield

func (o jobj) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.def.name)
		b = append(b, ':')
		b = appendValue(b, f.val)
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case jobj:
		return v.appendJSON(b)
	case []jobj:
		b = append(b, '[')
		for i, o := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = o.appendJSON(b)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

// appendString writes s as a JSON string. Unlike encoding/json it leaves <, > and & alone
// (the body is application/scim+json, never HTML); like it, it writes invalid UTF-8 as
// U+FFFD and escapes U+2028 and U+2029.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// formatTime writes a dateTime (RFC 7643 §2.3.5, xsd:dateTime) in UTC.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
