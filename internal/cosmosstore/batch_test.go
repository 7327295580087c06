package cosmosstore

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestBatchErr: the cause of a rolled-back batch is its first operation that failed on its
// own; the others report 424.
func TestBatchErr(t *testing.T) {
	results := func(codes ...int32) []azcosmos.TransactionalBatchResult {
		out := make([]azcosmos.TransactionalBatchResult, len(codes))
		for i, c := range codes {
			out[i].StatusCode = c
		}
		return out
	}
	for _, tc := range []struct {
		codes []int32
		want  gdpr.Code
	}{
		{[]int32{424, http.StatusPreconditionFailed, 424}, gdpr.CodeConflict},
		{[]int32{424, 424, http.StatusNotFound}, gdpr.CodeNotFound},
		{[]int32{http.StatusConflict}, gdpr.CodeConflict},
		{[]int32{424, http.StatusTooManyRequests}, gdpr.CodeUnavailable},
		{[]int32{http.StatusBadRequest, 424}, gdpr.CodeInternal},
		{[]int32{424, 424}, gdpr.CodeInternal}, // no cause: never a conflict or not-found
		{nil, gdpr.CodeInternal},
	} {
		err := batchErr("batch replace users, chunk 0", results(tc.codes...))
		require.Equal(t, tc.want, gdpr.ErrorCode(err), "%v", tc.codes)
	}
	err := batchErr("batch replace users, chunk 1", results(424, 412))
	require.ErrorIs(t, err, gdpr.ErrConflict)
	require.EqualError(t, err, "conflict: cosmosstore: batch replace users, chunk 1: operation 1: status 412")
	require.ErrorIs(t, batchErr("x", results(404)), gdpr.ErrNotFound)
}

// TestBatchID: written between quotes as the SDK does, the escaped id of any valid id is
// a JSON string that decodes to the id.
func TestBatchID(t *testing.T) {
	for _, id := range []string{"usr-1", `usr-"q"`, `a","id":"b`, "é<&>\u2028", `""`} {
		require.True(t, validID(id), id)
		var got string
		require.NoError(t, json.Unmarshal([]byte(`"`+batchID(id)+`"`), &got), id)
		require.Equal(t, id, got)
	}
	require.Equal(t, "usr-1", batchID("usr-1"), "ids without quotes are sent verbatim")
}
