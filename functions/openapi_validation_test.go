package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"
)

// The end-to-end tests check what they exchange against the OpenAPI document the handler
// serves (#21): each answer of a documented route must match the document, and a request
// the handler took (2xx) must too; a request the handler refused may break the document on
// purpose. SCIM's bodies are RFC 7643's, which the document only references.

var contract struct {
	once sync.Once
	mu   sync.Mutex // the validator's caches are not for concurrent use
	v    validator.Validator
	err  error
}

func (a *testApp) contract() validator.Validator {
	contract.once.Do(func() {
		res, err := a.httpc.Get(a.URL + "/api/openapi.json")
		if err != nil {
			contract.err = err
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			contract.err = err
			return
		}
		doc, err := libopenapi.NewDocument(b)
		if err != nil {
			contract.err = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			contract.err = errs[0]
			return
		}
		contract.v = v
	})
	require.NoError(a.t, contract.err, "the OpenAPI document")
	return contract.v
}

// checkContract validates one exchange of a test against the document.
func (a *testApp) checkContract(t testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/") || strings.Contains(req.URL.Path, "/scim/v2") ||
		status == http.StatusMethodNotAllowed { // a method the route does not have: no operation to check
		return
	}
	v := a.contract()
	contract.mu.Lock()
	defer contract.mu.Unlock()
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	resp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: r}
	if status/100 == 2 {
		if ok, errs := v.ValidateHttpRequestSync(r); !ok {
			for _, e := range errs {
				t.Errorf("OpenAPI: %s %s: request: %s (%s)", req.Method, req.URL.Path, e.Message, e.Reason)
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	if ok, errs := v.ValidateHttpResponse(r, resp); !ok {
		if status == http.StatusNotFound && len(errs) == 1 && errs[0].ValidationType == "path" {
			return // no such route: the catch-all's 404, of no operation
		}
		for _, e := range errs {
			t.Errorf("OpenAPI: %s %s → %d: response: %s (%s)", req.Method, req.URL.Path, status, e.Message, e.Reason)
		}
	}
}
