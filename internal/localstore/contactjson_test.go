package localstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// contactCases are contacts whose JSON takes each branch of encodeContact and decodeContact.
func contactCases() map[string]gdpr.Contact {
	ownErasure := storetest.NewContact("brand", "member")
	full := ownErasure
	full.Erasure = nil // a contact erased on its own is rare, and goes through encoding/json
	erased := full
	erased.Email, erased.FirstName, erased.LastName, erased.Phone, erased.Notes = "h1:"+strings.Repeat("0a", 32), "", "", "", ""
	erased.Tags, erased.Address = nil, gdpr.Address{City: "Testville", PostalCode: "99999"}
	erased.NextReviewAt = time.Time{}

	escaped := full
	escaped.FirstName, escaped.LastName, escaped.Notes = `<b>&"quoted"</b>`, `back\slash`, "line\nbreak\x01"
	escaped.Tags = []string{"tab\t", "\u2028separator", "ok"}
	unicode := full
	unicode.FirstName, unicode.LastName, unicode.Notes = "Zoë", "Ørsted-Łukasz 東京", "invalid \xff byte"
	zoned := full
	zoned.CreatedAt = time.Date(2024, 2, 29, 23, 59, 59, 120000000, time.FixedZone("", 2*3600+30*60))
	zoned.LastActivityAt = time.Date(2024, 3, 1, 0, 0, 0, 1, time.FixedZone("", -9*3600))
	emptyTags := full
	emptyTags.Tags = []string{}
	tooLate := full
	tooLate.ErasedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	farZone := full
	farZone.CreatedAt = time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600))
	saleShapes := full // products nil (null), empty ([]) and escaped; quantities at the edges
	saleShapes.Sales = []gdpr.Sale{{OrderID: "o1", At: full.CreatedAt}, {OrderID: "o2", Products: []gdpr.SaleLine{}},
		{OrderID: `<o&3>`, Amount: "-0.5", Currency: "€", Products: []gdpr.SaleLine{{SKU: "a\"b", Quantity: -7},
			{Quantity: 1<<63 - 1}, {Quantity: -1 << 63}}, At: zoned.LastActivityAt}}
	saleTooLate := full
	saleTooLate.Sales = []gdpr.Sale{{OrderID: "o", At: tooLate.ErasedAt}}

	return map[string]gdpr.Contact{
		"every field set":        full,
		"erased":                 erased,
		"zero":                   {},
		"escapes":                escaped,
		"non-ASCII and bad UTF8": unicode,
		"time zones and nanos":   zoned,
		"empty tags":             emptyTags,
		"year past 9999":         tooLate,
		"offset past 24h":        farZone,
		"sale shapes":            saleShapes,
		"erased on its own":      ownErasure,
		"sale past 9999":         saleTooLate,
	}
}

func TestContactJSONIsEncodingJSON(t *testing.T) {
	for name, c := range contactCases() {
		t.Run(name, func(t *testing.T) {
			want, wantErr := json.Marshal(c)
			got, err := encodeContact(c)
			if wantErr != nil {
				require.Error(t, err, "what encoding/json refuses is refused")
				return
			}
			require.NoError(t, err)
			require.Equal(t, string(want), got, "the bytes are encoding/json's")
			requireDecodesAsEncodingJSON(t, []byte(got))
		})
	}
}

// The fast path must serve the documents the erasure worker reads, or it is only overhead.
func TestDecodeContactTakesTheFastPath(t *testing.T) {
	for _, name := range []string{"every field set", "erased", "zero", "non-ASCII and bad UTF8", "time zones and nanos", "sale shapes"} {
		c := contactCases()[name]
		if name == "non-ASCII and bad UTF8" {
			c.Notes = "valid ü" // invalid UTF-8 goes through encoding/json, which replaces it
		}
		if name == "sale shapes" {
			c.Sales[2].OrderID, c.Sales[2].Products[0].SKU = "o3", "ab" // so do escapes
		}
		doc, err := encodeContact(c)
		require.NoError(t, err)
		_, ok := decodeContact([]byte(doc))
		require.True(t, ok, "%s: decoded without encoding/json", name)
		requireDecodesAsEncodingJSON(t, []byte(doc))
	}
	spaced := []byte(" {\n \"id\" : \"c1\" ,\t\"tags\" : [ \"a\" , \"b\" ] , \"address\" : { } }\r\n")
	got, ok := decodeContact(spaced)
	require.True(t, ok, "spaces between tokens")
	require.Equal(t, []string{"a", "b"}, got.Tags)
	requireDecodesAsEncodingJSON(t, spaced)
}

// A field added to gdpr.Contact must be added to the codec: storetest.NewContact sets every
// field, and TestContactJSONIsEncodingJSON compares its bytes with encoding/json's.
func TestNewContactSetsEveryField(t *testing.T) {
	var zeroFields func(v reflect.Value, path string) []string
	zeroFields = func(v reflect.Value, path string) []string {
		var out []string
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			if f.Tag.Get("json") == "-" {
				continue
			}
			if fv.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Time]() {
				out = append(out, zeroFields(fv, path+f.Name+".")...)
				continue
			}
			if fv.IsZero() {
				out = append(out, path+f.Name)
			}
		}
		return out
	}
	require.Empty(t, zeroFields(reflect.ValueOf(storetest.NewContact("brand", "member")), ""))
}

func requireDecodesAsEncodingJSON(t testing.TB, doc []byte) {
	t.Helper()
	got, ok := decodeContact(doc)
	var want gdpr.Contact
	err := json.Unmarshal(doc, &want)
	if !ok {
		return // encoding/json decodes it
	}
	require.NoError(t, err, "decodeContact accepted what encoding/json refuses: %q", doc)
	require.Equal(t, want, got, "decoded as encoding/json does: %q", doc)
}

func FuzzDecodeContact(f *testing.F) {
	for _, c := range contactCases() {
		if doc, err := json.Marshal(c); err == nil {
			f.Add(doc)
		}
	}
	for _, doc := range []string{`{}`, `{"id":null}`, `{"ID":"x"}`, `{"id":"a","id":"b"}`, `{"tags":[]}`,
		`{"address":{"city":"a"},"address":{"street":"b"}}`, `{"createdAt":"2024-01-01T00:00:00Z"} x`,
		`{"createdAt":"2024-13-01T00:00:00Z"}`, `{"id":"\u0041"}`, `{"tags":["a",]}`, `{"id":"a",}`,
		`{"consentHistory":[{"kind":"a","from":"x"}],"consentHistory":[{"kind":"b"}]}`,
		`{"sales":[{"orderId":"a","amount":"1"}],"sales":[{"orderId":"b"}]}`, `{"sales":[]}`, `{"sales":null}`,
		`{"sales":[{"products":[{"sku":"a","quantity":1}],"products":[{"sku":"b"}]}]}`,
		`{"sales":[{"products":[{"sku":"a","quantity":1}],"products":null,"products":[{"sku":"b"}]}]}`,
		`{"sales":[{"products":null}]}`, `{"sales":[{"products":nul}]}`, `{"sales":[{"products":[]}]}`,
		`{"sales":[{"products":[{"quantity":-0}]}]}`, `{"sales":[{"products":[{"quantity":01}]}]}`,
		`{"sales":[{"products":[{"quantity":1.0}]}]}`, `{"sales":[{"products":[{"quantity":1e2}]}]}`,
		`{"sales":[{"products":[{"quantity":9223372036854775808}]}]}`, `{"sales":[{"products":[{"quantity":"1"}]}]}`,
		`{"sales":[{"products":[{"quantity":-}]}]}`, `{"sales":[{"products":[{"quantity":null}]}]}`} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		requireDecodesAsEncodingJSON(t, doc)
	})
}

func FuzzEncodeContact(f *testing.F) {
	f.Add("Zoë", `<&>"\`, "tag", int64(0), 3600, 2)
	f.Add("\xff\u2028", "\x00", "", int64(1e9+7), -86399, -1<<63)
	f.Fuzz(func(t *testing.T, name, notes, tag string, nanos int64, offset int, quantity int) {
		c := storetest.NewContact("brand", "member")
		c.FirstName, c.Notes, c.Tags = name, notes, []string{tag}
		c.CreatedAt = time.Unix(0, nanos).In(time.FixedZone("", offset))
		c.Sales[0].OrderID, c.Sales[0].Products[0].SKU, c.Sales[0].Products[0].Quantity = notes, tag, quantity
		c.Sales[0].At = c.CreatedAt.Add(time.Duration(quantity))
		want, wantErr := json.Marshal(c)
		got, err := encodeContact(c)
		if wantErr != nil {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		require.Equal(t, string(want), got)
		requireDecodesAsEncodingJSON(t, want)
	})
}

// BenchmarkContactJSON compares the codec with encoding/json on a contact with every field set.
func BenchmarkContactJSON(b *testing.B) {
	c := storetest.NewContact("brand", "member")
	c.Erasure = nil
	doc, err := encodeContact(c)
	require.NoError(b, err)
	b.Run("encode/codec", func(b *testing.B) {
		for b.Loop() {
			encodeContact(c)
		}
	})
	b.Run("encode/encoding-json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(c)
		}
	})
	b.Run("decode/codec", func(b *testing.B) {
		for b.Loop() {
			decodeContact([]byte(doc))
		}
	})
	b.Run("decode/encoding-json", func(b *testing.B) {
		for b.Loop() {
			var got gdpr.Contact
			json.Unmarshal([]byte(doc), &got)
		}
	})
}
