package scim

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeeplyNestedBodyRefused is finding 1 of issue 24 for SCIM: every decoder refuses a
// body nested deeper than MaxDepth with 400 invalidSyntax, saying the bound, before the
// members split walks it.
func TestDeeplyNestedBodyRefused(t *testing.T) {
	require.Contains(t, msgBodyTooDeep, "nested deeper than "+strconv.Itoa(MaxDepth)+" levels")
	decoders := map[string]func([]byte) error{
		"user":   func(b []byte) error { _, err := DecodeUser(b); return err },
		"patch":  func(b []byte) error { _, err := DecodePatch(b); return err },
		"search": func(b []byte) error { _, err := DecodeSearchRequest(b); return err },
	}
	bodies := map[string]string{
		"open":   `{"schemas":` + strings.Repeat("[", 60_000),
		"closed": `{"schemas":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
		"value":  `{"Operations":[{"op":"add","value":` + strings.Repeat(`{"a":`, MaxDepth) + `1` + strings.Repeat("}", MaxDepth) + `}]}`,
	}
	for name, decode := range decoders {
		for shape, body := range bodies {
			t.Run(name+"_"+shape, func(t *testing.T) {
				var se *Error
				require.True(t, errors.As(decode([]byte(body)), &se))
				require.Equal(t, 400, se.Status)
				require.Equal(t, ScimTypeInvalidSyntax, se.ScimType)
				require.Equal(t, msgBodyTooDeep, se.Detail)
			})
		}
	}
}
