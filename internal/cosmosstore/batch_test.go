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

// TestBatchChunks: chunks are consecutive, at most maxOps operations and maxBytes of request
// body ("[", the operations, a comma between each, "]"); an operation too large for any batch
// goes alone.
func TestBatchChunks(t *testing.T) {
	body := func(sizes []int) int { return 2 + sum(sizes) + len(sizes) - 1 }
	for _, tc := range []struct {
		name     string
		sizes    []int
		maxOps   int
		maxBytes int
		want     [][2]int
	}{
		{"empty", nil, 100, 1000, nil},
		{"count bound", []int{1, 1, 1, 1, 1}, 2, 1000, [][2]int{{0, 2}, {2, 4}, {4, 5}}},
		{"exactly at the byte bound", []int{10, 10, 10}, 100, 2 + 10 + 1 + 10, [][2]int{{0, 2}, {2, 3}}},
		{"one byte over", []int{10, 10, 10}, 100, 2 + 10 + 1 + 10 - 1, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{"oversized alone", []int{5, 50, 5, 5}, 100, 20, [][2]int{{0, 1}, {1, 2}, {2, 4}}},
		{"100 users of 30 KB", repeat(30_300, 100), 100, maxBatchBytes, [][2]int{{0, 62}, {62, 100}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := batchChunks(tc.sizes, tc.maxOps, tc.maxBytes)
			require.Equal(t, tc.want, got)
			next := 0
			for _, r := range got {
				require.Equal(t, next, r[0], "consecutive")
				require.LessOrEqual(t, r[1]-r[0], tc.maxOps)
				if r[1]-r[0] > 1 {
					require.LessOrEqual(t, body(tc.sizes[r[0]:r[1]]), tc.maxBytes)
				}
				next = r[1]
			}
			require.Equal(t, len(tc.sizes), next, "every operation in a chunk")
		})
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func sum(vs []int) int {
	s := 0
	for _, v := range vs {
		s += v
	}
	return s
}

// TestEmulatorBatchOfOneIsAReplace: a batch update of one document groups nothing, so it is
// sent as a plain conditional replace (no transactional batch), with the same outcomes: the
// new version, and a stale version refused with nothing written.
func TestEmulatorBatchOfOneIsAReplace(t *testing.T) {
	ctx := t.Context()
	s, rec := recordingStore(t)
	brand := newBrand()
	u, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-1", FirstName: "orig"})
	require.NoError(t, err)
	u.FirstName = "once"
	out, err := s.UpdateUsers(ctx, brand, []gdpr.User{u})
	require.NoError(t, err)
	require.NotEqual(t, u.Version, out[0].Version)
	for _, c := range rec.all() {
		require.False(t, c.batch, "one document is no batch")
	}
	require.NotEmpty(t, rec.last(t, http.MethodPut, "/docs/usr-1").got)

	u.FirstName = "stale"
	_, err = s.UpdateUsers(ctx, brand, []gdpr.User{u})
	require.ErrorIs(t, err, gdpr.ErrConflict)
	got, err := s.GetUser(ctx, brand, "usr-1")
	require.NoError(t, err)
	require.Equal(t, "once", got.FirstName)
}
