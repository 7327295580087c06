package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// allocatedBy is how many bytes f allocates, all goroutines together: the tests that use it
// run alone, not in parallel.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// deepBodies are bodies nested depth levels below their top object, unclosed as the review
// sent them and closed, so that a decoder that reads to the end meets every level too.
func deepBodies(depth int) map[string]string {
	return map[string]string{
		"open":   `{"token":` + strings.Repeat("[", depth),
		"closed": `{"token":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`,
		"object": strings.Repeat(`{"token":`, depth+1) + `""` + strings.Repeat("}", depth+1),
	}
}

// TestDeeplyNestedBodyRefused is finding 1 of issue 24: {"token": and 60,000 [ killed the
// process, the strict-key check keeping a path string per level. A body nested deeper than
// MaxJSONDepth is refused with 400 saying the bound, at a cost linear in its size.
func TestDeeplyNestedBodyRefused(t *testing.T) {
	for _, depth := range []int{MaxJSONDepth, 3000} {
		for shape, body := range deepBodies(depth) {
			t.Run(shape+"_"+strconv.Itoa(depth), func(t *testing.T) {
				var in struct {
					Token string `json:"token"`
				}
				var err error
				alloc := allocatedBy(func() {
					r := httptest.NewRequest("POST", "/api/brands/demo/invitation", strings.NewReader(body))
					r.Header.Set("Content-Type", "application/json")
					err = decodeJSON(r, &in)
				})
				var he *httpError
				require.True(t, errors.As(err, &he), "%v", err)
				require.Equal(t, 400, he.status)
				require.Equal(t, "body is JSON nested deeper than 16 levels", he.message)
				require.Less(t, alloc, uint64(16*len(body)+64<<10), "allocated %d bytes for a body of %d", alloc, len(body))
			})
		}
	}
}

// TestNestingAtTheBoundIsDecoded: a body exactly MaxJSONDepth deep reaches the decoder, which
// judges it on its fields.
func TestNestingAtTheBoundIsDecoded(t *testing.T) {
	body := `{"token":` + strings.Repeat("[", MaxJSONDepth-1) + strings.Repeat("]", MaxJSONDepth-1) + `}`
	var in struct {
		Token string `json:"token"`
	}
	err := unmarshalStrict([]byte(body), &in)
	var he *httpError
	require.True(t, errors.As(err, &he), "%v", err)
	require.Equal(t, "field token must be a JSON string", he.message)

	var order gdpr.Order
	require.NoError(t, unmarshalStrict([]byte(`{"orderId":"o-1","products":[{"sku":"A","quantity":2}],"contact":{"email":"a@b.cd"}}`), &order))
}

// TestKeyCheckIsLinear: the strict-key check costs memory linear in the body however deep it
// is, even past the bound that unmarshalStrict puts in front of it (issue 24).
func TestKeyCheckIsLinear(t *testing.T) {
	for _, depth := range []int{1000, 3000} {
		body := `{"token":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
		var in struct {
			Token string `json:"token"`
		}
		var err error
		alloc := allocatedBy(func() { err = checkKeys([]byte(body), &in) })
		require.NoError(t, err, "the types are encoding/json's to check")
		require.Less(t, alloc, uint64(64*len(body)+64<<10), "depth %d: allocated %d bytes for a body of %d", depth, alloc, len(body))
	}
}

// FuzzDecodeDepth: whatever the body, the strict decoder refuses one that nests deeper than
// MaxJSONDepth with the message that says so, accepts none deeper, quotes nothing the client
// sent, and allocates no more than a small multiple of the body.
func FuzzDecodeDepth(f *testing.F) {
	for _, depth := range []int{MaxJSONDepth - 1, MaxJSONDepth, 60_000} {
		for _, body := range deepBodies(depth) {
			f.Add([]byte(body))
		}
	}
	f.Add([]byte(`{"orderId":"o-1","products":[{"sku":"A","quantity":2}],"contact":{"email":"a@b.cd"}}`))
	f.Add([]byte(`{"token":"[[[[[[[[[[[[[[[[[[[[\"[[[[[","x":[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]}`))
	targets := []func() any{
		func() any { return &gdpr.SignupInput{} },
		func() any { return &gdpr.BrandSettings{} },
		func() any { return &gdpr.Order{} },
		func() any { return &gdpr.SyncBatch{} },
		func() any { return &ssoEvent{} },
		func() any { return &map[string]any{} },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		deepest := nesting(body)
		for _, target := range targets {
			v := target()
			var err error
			if len(body) < 4<<10 {
				err = unmarshalStrict(body, v) // too small for its cost to show past the slack
			} else if alloc := allocatedBy(func() { err = unmarshalStrict(body, v) }); alloc > uint64(64*len(body)+1<<20) {
				t.Fatalf("allocated %d bytes for a body of %d", alloc, len(body))
			}
			if err == nil {
				if deepest > MaxJSONDepth {
					t.Fatalf("accepted a body %d levels deep", deepest)
				}
				continue
			}
			requireNoClientString(t, body, err.Error())
			if deepest > MaxJSONDepth && !strings.Contains(err.Error(), "nested deeper than 16 levels") {
				t.Fatalf("a body %d levels deep refused for another reason: %v", deepest, err)
			}
		}
	})
}

// nesting is how deep body nests as encoding/json's tokenizer reads it, up to its first
// syntax error.
func nesting(body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}
