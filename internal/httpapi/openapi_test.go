package httpapi

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"
)

// TestOpenAPIDescribesTheRouter walks the router: every route is documented, and every
// documented route is served, with the same method. The SCIM endpoints' trailing-slash twins
// and the SCIM catch-all (which answers a SCIM 404) are the same operations, not documented twice.
func TestOpenAPIDescribesTheRouter(t *testing.T) {
	a := &api{}
	var served []string
	for _, rt := range append(a.routes(), a.scimRoutes()...) {
		if strings.HasSuffix(rt.pattern, "/{$}") || strings.HasSuffix(rt.pattern, "/scim/v2/") {
			continue
		}
		served = append(served, rt.pattern)
	}
	documented := describeAPI().Patterns()
	slices.Sort(served)
	slices.Sort(documented)
	require.Equal(t, served, documented)
}

// TestOpenAPIDocumentIsValid renders the document, checks it against the OpenAPI 3.1 schema
// and serves it.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	b, err := apiDocument()
	require.NoError(t, err)
	doc, err := libopenapi.NewDocument(b)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	valid, verrs := v.ValidateDocument()
	for _, e := range verrs {
		t.Errorf("%s: %s", e.Message, e.Reason)
	}
	require.True(t, valid)

	h := New(Options{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/openapi.json", nil))
	require.Equal(t, http.StatusOK, w.Code)
	require.JSONEq(t, string(b), w.Body.String())
	t.Logf("document: %d bytes, %d operations", len(b), len(describeAPI().Patterns()))
}
