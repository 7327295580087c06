package jsondepth

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	for body, deepest := range map[string]int{
		`1`:                           0,
		`{}`:                          1,
		`{"a":[1,{"b":[]}]}`:          4,
		`{"a":"[[[[{{{{"}`:            1, // brackets in a string do not count
		`{"a":"\"[[[","b":[]}`:        2, // nor after an escaped quote
		`{"a":"\\","b":[[]]}`:         3, // an escaped backslash ends the escape
		`[` + strings.Repeat(`[`, 99): 100,
	} {
		require.NoError(t, Check([]byte(body), deepest), "%s", body)
		if deepest > 0 {
			err := Check([]byte(body), deepest-1)
			var de *Error
			require.True(t, errors.As(err, &de), "%s", body)
			require.Equal(t, deepest-1, de.Max)
			require.Equal(t, "JSON nested deeper than "+strconv.Itoa(deepest-1)+" levels", err.Error())
		}
	}
}

// TestCheckAllocatesNothing: the check costs no memory whatever the body, beside the error.
func TestCheckAllocatesNothing(t *testing.T) {
	body := []byte(`{"token":` + strings.Repeat("[", 60_000))
	require.Equal(t, 1.0, testing.AllocsPerRun(10, func() { _ = Check(body, 16) }))
	require.Zero(t, testing.AllocsPerRun(10, func() { _ = Check(body, 1<<20) }))
}

// FuzzCheck: a body Check passes at max never nests deeper than max as encoding/json reads it.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":[]}]}`, `{"a":"\"[[["}`, `[[[[[[[[[[[[[[[[[[`, `"\\"[`, `{"token":[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const max = 4
		if Check(b, max) != nil || !json.Valid(b) {
			return
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				return
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				if depth++; depth > max {
					t.Fatalf("passed a body %d levels deep: %q", depth, b)
				}
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
		}
	})
}
