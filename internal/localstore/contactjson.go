package localstore

import (
	"bytes"
	"encoding/json"
	"iter"
	"strconv"
	"time"
	"unicode/utf8"

	"popsell-gdpr/internal/gdpr"
)

// Contacts are the documents the erasure worker reads and writes most, ten for each member it
// erases. encoding/json spends ~10 µs decoding one and ~5 µs encoding it, mostly in reflection
// and in time.Time's MarshalJSON, whose output it then validates again. The two functions
// here do the same work for gdpr.Contact alone, several times faster, and defer to
// encoding/json for anything they do not handle, so the stored bytes and the decoded values
// are exactly encoding/json's (TestContactJSONIsEncodingJSON, FuzzDecodeContact).

// encodeContact returns json.Marshal(c) as a string.
func encodeContact(c gdpr.Contact) (string, error) {
	if c.Erasure != nil {
		return encodeJSON(c) // a contact erased on its own: rare, and written once
	}
	for _, t := range []time.Time{c.MemberOptIn.At, c.BrandOptIn.At, c.CreatedAt, c.LastActivityAt,
		c.InvitationSentAt, c.ErasedAt, c.NextReviewAt} {
		if !marshalsAsRFC3339(t) {
			return encodeJSON(c) // let encoding/json report the error
		}
	}
	for _, h := range c.History {
		if !marshalsAsRFC3339(h.At) {
			return encodeJSON(c)
		}
	}
	for _, s := range c.Sales {
		if !marshalsAsRFC3339(s.At) {
			return encodeJSON(c)
		}
	}
	b := make([]byte, 0, 512)
	b = appendField(b, '{', "brandId", string(c.BrandID))
	b = appendField(b, ',', "id", c.ID)
	b = appendField(b, ',', "memberId", c.MemberID)
	b = appendNonEmpty(b, "email", c.Email)
	b = appendNonEmpty(b, "emailStatus", string(c.EmailStatus))
	b = appendNonEmpty(b, "firstName", c.FirstName)
	b = appendNonEmpty(b, "lastName", c.LastName)
	b = appendNonEmpty(b, "phone", c.Phone)
	b = appendNonEmpty(b, "notes", c.Notes)
	if len(c.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, tag := range c.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, tag)
		}
		b = append(b, ']')
	}
	if a := c.Address; a != (gdpr.Address{}) {
		b = append(b, `,"address":`...)
		open := len(b) // the comma before its first field, which it has, becomes the brace
		b = appendNonEmpty(b, "street", a.Street)
		b = appendNonEmpty(b, "city", a.City)
		b = appendNonEmpty(b, "postalCode", a.PostalCode)
		b = appendNonEmpty(b, "country", a.Country)
		b[open] = '{'
		b = append(b, '}')
	}
	b = append(b, `,"memberOptIn":`...)
	b = appendOptIn(b, string(c.MemberOptIn.Value), c.MemberOptIn.At)
	b = append(b, `,"brandOptIn":`...)
	b = appendOptIn(b, string(c.BrandOptIn.Value), c.BrandOptIn.At)
	b = appendNonEmpty(b, "source", string(c.Source))
	if len(c.History) > 0 {
		b = append(b, `,"consentHistory":[`...)
		for i, h := range c.History {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendField(b, '{', "kind", string(h.Kind))
			b = appendField(b, ',', "from", h.From)
			b = appendField(b, ',', "to", h.To)
			b = appendTime(append(b, `,"at":`...), h.At)
			b = append(b, `,"source":`...)
			b = appendField(b, '{', "kind", string(h.Source.Kind))
			b = appendField(b, ',', "ref", h.Source.Ref)
			b = append(b, "}}"...)
		}
		b = append(b, ']')
	}
	if len(c.Sales) > 0 {
		b = append(b, `,"sales":[`...)
		for i, s := range c.Sales {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendField(b, '{', "orderId", s.OrderID)
			b = appendField(b, ',', "amount", s.Amount)
			b = appendField(b, ',', "currency", s.Currency)
			if s.Products == nil {
				b = append(b, `,"products":null`...) // no omitempty: encoding/json writes a nil slice as null
			} else {
				b = append(b, `,"products":[`...)
				for j, p := range s.Products {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendField(b, '{', "sku", p.SKU)
					b = strconv.AppendInt(append(b, `,"quantity":`...), int64(p.Quantity), 10)
					b = append(b, '}')
				}
				b = append(b, ']')
			}
			b = append(appendTime(append(b, `,"at":`...), s.At), '}')
		}
		b = append(b, ']')
	}
	b = appendTime(append(b, `,"createdAt":`...), c.CreatedAt)
	b = appendNonZeroTime(b, "lastActivityAt", c.LastActivityAt)
	b = appendNonZeroTime(b, "invitationSentAt", c.InvitationSentAt)
	b = appendNonZeroTime(b, "erasedAt", c.ErasedAt)
	b = appendNonEmpty(b, "erasedBy", c.ErasedBy)
	b = appendNonZeroTime(b, "nextReviewAt", c.NextReviewAt)
	return string(append(b, '}')), nil
}

// marshalsAsRFC3339 reports a time that time.Time.MarshalJSON encodes without error.
func marshalsAsRFC3339(t time.Time) bool {
	_, offset := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && offset > -24*3600 && offset < 24*3600
}

func appendOptIn(b []byte, value string, at time.Time) []byte {
	b = appendField(b, '{', "value", value)
	return append(appendTime(append(b, `,"at":`...), at), '}')
}

// appendField appends sep (none if 0), then "key":"value".
func appendField(b []byte, sep byte, key, value string) []byte {
	if sep != 0 {
		b = append(b, sep)
	}
	b = append(append(append(b, '"'), key...), `":`...)
	return appendJSONString(b, value)
}

func appendNonEmpty(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	return appendField(b, ',', key, value)
}

func appendNonZeroTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(append(append(b, `,"`...), key...), `":`...)
	return appendTime(b, t)
}

// appendTime appends t as time.Time.MarshalJSON does; the caller checked marshalsAsRFC3339.
func appendTime(b []byte, t time.Time) []byte {
	return append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
}

// appendJSONString appends s quoted as encoding/json quotes it: a string that needs no escape
// is copied; any other is left to encoding/json, which also escapes <, > and & for HTML and
// replaces invalid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			ascii = false
		case c < ' ', c == '"', c == '\\', c == '<', c == '>', c == '&':
			return appendMarshalled(b, s)
		}
	}
	if !ascii && (!utf8.ValidString(s) || containsLineSeparator(s)) {
		return appendMarshalled(b, s)
	}
	return append(append(append(b, '"'), s...), '"')
}

// containsLineSeparator reports U+2028 or U+2029, which encoding/json escapes.
func containsLineSeparator(s string) bool {
	for _, r := range s {
		if r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

func appendMarshalled(b []byte, s string) []byte {
	quoted, _ := json.Marshal(s) // a string always marshals
	return append(b, quoted...)
}

// decodeContact decodes what encodeContact writes, with or without spaces and with its keys in
// any order. ok is false for any other document, which the caller hands to encoding/json:
// escapes in strings, non-string values, null (but for a sale's products), unknown or
// differently cased keys, and an array key given twice: encoding/json decodes the second array
// into the first one's elements, merging them, which the readers here do not.
func decodeContact(data []byte) (c gdpr.Contact, ok bool) {
	r := jsonReader{b: data, ok: true}
	for key := range r.members() {
		switch string(key) {
		case "brandId":
			c.BrandID = gdpr.BrandID(r.str())
		case "id":
			c.ID = r.str()
		case "memberId":
			c.MemberID = r.str()
		case "email":
			c.Email = r.str()
		case "emailStatus":
			c.EmailStatus = gdpr.EmailStatus(r.str())
		case "firstName":
			c.FirstName = r.str()
		case "lastName":
			c.LastName = r.str()
		case "phone":
			c.Phone = r.str()
		case "notes":
			c.Notes = r.str()
		case "tags":
			c.Tags = r.strs()
		case "address":
			for key := range r.members() {
				switch string(key) {
				case "street":
					c.Address.Street = r.str()
				case "city":
					c.Address.City = r.str()
				case "postalCode":
					c.Address.PostalCode = r.str()
				case "country":
					c.Address.Country = r.str()
				default:
					r.ok = false
				}
			}
		case "memberOptIn":
			readOptIn(&r, &c.MemberOptIn.Value, &c.MemberOptIn.At)
		case "brandOptIn":
			readOptIn(&r, &c.BrandOptIn.Value, &c.BrandOptIn.At)
		case "source":
			c.Source = gdpr.ContactSource(r.str())
		case "consentHistory":
			if c.History != nil { // given twice: encoding/json merges the two
				r.ok = false
			}
			c.History = readHistory(&r)
		case "sales":
			if c.Sales != nil { // given twice: encoding/json merges the two
				r.ok = false
			}
			c.Sales = readSales(&r)
		case "createdAt":
			c.CreatedAt = r.time()
		case "lastActivityAt":
			c.LastActivityAt = r.time()
		case "invitationSentAt":
			c.InvitationSentAt = r.time()
		case "erasedAt":
			c.ErasedAt = r.time()
		case "erasedBy":
			c.ErasedBy = r.str()
		case "nextReviewAt":
			c.NextReviewAt = r.time()
		default:
			r.ok = false
		}
	}
	r.space()
	if !r.ok || r.i != len(r.b) {
		return gdpr.Contact{}, false
	}
	return c, true
}

// readOptIn reads a consent state: {"value":…,"at":…}.
func readOptIn[V ~string](r *jsonReader, value *V, at *time.Time) {
	for key := range r.members() {
		switch string(key) {
		case "value":
			*value = V(r.str())
		case "at":
			*at = r.time()
		default:
			r.ok = false
		}
	}
}

// readHistory reads the consent history: [{"kind","from","to","at","source":{"kind","ref"}}…];
// an empty array is an empty slice, as in encoding/json.
func readHistory(r *jsonReader) []gdpr.ConsentChange {
	r.next('[')
	out := []gdpr.ConsentChange{}
	if r.peek(']') {
		return out
	}
	for r.ok {
		var h gdpr.ConsentChange
		for key := range r.members() {
			switch string(key) {
			case "kind":
				h.Kind = gdpr.ConsentKind(r.str())
			case "from":
				h.From = r.str()
			case "to":
				h.To = r.str()
			case "at":
				h.At = r.time()
			case "source":
				for key := range r.members() {
					switch string(key) {
					case "kind":
						h.Source.Kind = gdpr.ConsentSourceKind(r.str())
					case "ref":
						h.Source.Ref = r.str()
					default:
						r.ok = false
					}
				}
			default:
				r.ok = false
			}
		}
		out = append(out, h)
		if !r.peek(',') {
			r.next(']')
			break
		}
	}
	return out
}

// readSales reads the sales: [{"orderId","amount","currency","products":[{"sku","quantity"}…]
// or null,"at"}…]; an empty array is an empty slice, as in encoding/json.
func readSales(r *jsonReader) []gdpr.Sale {
	r.next('[')
	out := []gdpr.Sale{}
	if r.peek(']') {
		return out
	}
	for r.ok {
		var s gdpr.Sale
		for key := range r.members() {
			switch string(key) {
			case "orderId":
				s.OrderID = r.str()
			case "amount":
				s.Amount = r.str()
			case "currency":
				s.Currency = r.str()
			case "products":
				if s.Products != nil { // given twice: encoding/json merges the two
					r.ok = false
				}
				s.Products = readSaleLines(r)
			case "at":
				s.At = r.time()
			default:
				r.ok = false
			}
		}
		out = append(out, s)
		if !r.peek(',') {
			r.next(']')
			break
		}
	}
	return out
}

// readSaleLines reads a sale's products: null is a nil slice and an empty array an empty one,
// as in encoding/json.
func readSaleLines(r *jsonReader) []gdpr.SaleLine {
	if r.null() {
		return nil
	}
	r.next('[')
	out := []gdpr.SaleLine{}
	if r.peek(']') {
		return out
	}
	for r.ok {
		var p gdpr.SaleLine
		for key := range r.members() {
			switch string(key) {
			case "sku":
				p.SKU = r.str()
			case "quantity":
				p.Quantity = r.int()
			default:
				r.ok = false
			}
		}
		out = append(out, p)
		if !r.peek(',') {
			r.next(']')
			break
		}
	}
	return out
}

// jsonReader reads the plain JSON decodeContact accepts. Once ok is false every method is a
// no-op, so callers check it once, at the end.
type jsonReader struct {
	b  []byte
	i  int
	ok bool
}

func (r *jsonReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next consumes c, after spaces, or fails.
func (r *jsonReader) next(c byte) {
	r.space()
	if !r.ok || r.i == len(r.b) || r.b[r.i] != c {
		r.ok = false
		return
	}
	r.i++
}

// peek consumes c if it comes next, after spaces.
func (r *jsonReader) peek(c byte) bool {
	r.space()
	if r.ok && r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// members reads an object and yields each key with the reader at its value, which the loop
// body must read.
func (r *jsonReader) members() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		r.next('{')
		if r.peek('}') {
			return
		}
		for r.ok {
			key := r.raw()
			r.next(':')
			if !r.ok || !yield(key) {
				return
			}
			if !r.peek(',') {
				r.next('}')
				return
			}
		}
	}
}

// raw reads a string with no escape and returns its bytes. Control characters fail, as they
// do in encoding/json; invalid UTF-8, which encoding/json would replace, fails too.
func (r *jsonReader) raw() []byte {
	r.next('"')
	if !r.ok {
		return nil
	}
	n := bytes.IndexByte(r.b[r.i:], '"') // an escaped quote stops it too, and fails below
	if n < 0 {
		r.ok = false
		return nil
	}
	s := r.b[r.i : r.i+n]
	r.i += n + 1
	ascii := true
	for _, c := range s {
		if c < ' ' || c == '\\' {
			r.ok = false
			return nil
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && !utf8.Valid(s) {
		r.ok = false
		return nil
	}
	return s
}

func (r *jsonReader) str() string { return string(r.raw()) }

// null consumes a null literal if it comes next, after spaces.
func (r *jsonReader) null() bool {
	r.space()
	if r.ok && bytes.HasPrefix(r.b[r.i:], []byte("null")) {
		r.i += len("null")
		return true
	}
	return false
}

// int reads an integer as encoding/json decodes one into an int: -?(0|[1-9][0-9]*) that fits.
// A fraction or an exponent, which encoding/json refuses for an int, fails, as does overflow.
func (r *jsonReader) int() int {
	r.space()
	if !r.ok {
		return 0
	}
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	if r.i == digits || (r.b[digits] == '0' && r.i > digits+1) {
		r.ok = false // no digit, or a leading zero
		return 0
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, strconv.IntSize)
	if err != nil {
		r.ok = false
		return 0
	}
	return int(n)
}

// strs reads an array of strings; an empty one is an empty slice, not nil, as in encoding/json.
func (r *jsonReader) strs() []string {
	r.next('[')
	out := []string{}
	if r.peek(']') {
		return out
	}
	for r.ok {
		out = append(out, r.str())
		if !r.peek(',') {
			r.next(']')
			break
		}
	}
	return out
}

// time reads a time as time.Time.UnmarshalJSON does: the quoted bytes, unescaped, strictly
// RFC 3339.
func (r *jsonReader) time() time.Time {
	raw := r.raw()
	var t time.Time
	if r.ok && t.UnmarshalText(raw) != nil {
		r.ok = false
	}
	return t
}
