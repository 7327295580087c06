package azfunc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixtureCase is one request recorded in testdata/*-request.json, copied
// from shared/wire/functions-host.
type fixtureCase struct {
	Name    string
	Request struct {
		Method  string
		Path    string
		Headers map[string]string
	}
	Body json.RawMessage
}

// fixtureCases returns the cases of a fixture file by name, and a check that
// fails the test if any of them went unused: a case added to the fixture
// must get a test.
func fixtureCases(t *testing.T, file string) (cases map[string]fixtureCase, use func(name string) fixtureCase) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	require.NoError(t, err)
	var doc struct{ Cases []fixtureCase }
	require.NoError(t, json.Unmarshal(data, &doc))

	cases = map[string]fixtureCase{}
	for _, c := range doc.Cases {
		cases[c.Name] = c
	}
	used := map[string]bool{}
	t.Cleanup(func() {
		for name := range cases {
			if !used[name] {
				t.Errorf("%s: case %q has no test", file, name)
			}
		}
	})
	return cases, func(name string) fixtureCase {
		t.Helper()
		c, ok := cases[name]
		require.Truef(t, ok, "%s has no case %q", file, name)
		used[name] = true
		return c
	}
}

// fixtureBody is the body of one case of a fixture file, for tests that
// derive variants from it (fixtureCases is for tests that cover every case).
func fixtureBody(t *testing.T, file, name string) json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	require.NoError(t, err)
	var doc struct{ Cases []fixtureCase }
	require.NoError(t, json.Unmarshal(data, &doc))
	for _, c := range doc.Cases {
		if c.Name == name {
			return c.Body
		}
	}
	t.Fatalf("%s has no case %q", file, name)
	return nil
}

// request rebuilds the fixture's request as the server would receive it:
// chunked, so with no known length.
func (c fixtureCase) request() *http.Request {
	r := httptest.NewRequest(c.Request.Method, c.Request.Path, io.NopCloser(bytes.NewReader(c.Body)))
	for k, v := range c.Request.Headers {
		if k != "Host" && k != "Transfer-Encoding" {
			r.Header.Set(k, v)
		}
	}
	r.ContentLength = -1
	r.TransferEncoding = []string{"chunked"}
	return r
}

// envelopeRequest wraps a hand-written envelope body.
func envelopeRequest(body string) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/Fn", bytes.NewBufferString(body))
}
