package cosmosstore

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/testenv"
)

// fakeCosmos is an HTTP server answering what a point read needs: the account lookup the
// client makes first, and ReadItem of any document, which fails with status (and Cosmos DB's
// x-ms-retry-after-ms of 1 ms, so retries do not wait) for the first failures calls. The
// emulator cannot throttle, hence this fake.
type fakeCosmos struct {
	*httptest.Server
	status   int
	failures int64
	reads    atomic.Int64
}

func newFakeCosmos(t *testing.T, status int, failures int64) *fakeCosmos {
	f := &fakeCosmos{status: status, failures: failures}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		ep := fmt.Sprintf(`[{"name":"West Europe","databaseAccountEndpoint":%q}]`, f.URL+"/")
		fmt.Fprintf(w, `{"id":"fake","writableLocations":%s,"readableLocations":%s,"enableMultipleWriteLocations":false,
			"userConsistencyPolicy":{"defaultConsistencyLevel":"Session"}}`, ep, ep)
	})
	mux.HandleFunc("GET /dbs/{db}/colls/{coll}/docs/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if f.reads.Add(1) <= f.failures {
			w.Header().Set("x-ms-retry-after-ms", "1")
			w.Header().Set("x-ms-substatus", "3200")
			w.WriteHeader(f.status)
			fmt.Fprint(w, `{"code":"TooManyRequests","message":"Request rate is large"}`)
			return
		}
		w.Header().Set("etag", `"e1"`)
		fmt.Fprintf(w, `{"id":%q,"brandId":"b","doc":{"id":%q,"brandId":"b"},"_etag":"\"e1\""}`, r.PathValue("id"), r.PathValue("id"))
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func fakeStore(t *testing.T, f *fakeCosmos, opts *azcosmos.ClientOptions) *Store {
	t.Helper()
	cred, err := azcosmos.NewKeyCredential(testenv.CosmosEmulatorKey)
	require.NoError(t, err)
	client, err := azcosmos.NewClientWithKey(f.URL+"/", cred, opts)
	require.NoError(t, err)
	s, err := New(client, "gdpr")
	require.NoError(t, err)
	return s
}

func TestClientRetryOptions(t *testing.T) {
	o := clientOptions().Retry
	require.Equal(t, int32(9), o.MaxRetries, "Cosmos DB's SDKs retry throttling 9 times")
	require.Equal(t, 500*time.Millisecond, o.RetryDelay)
	require.Equal(t, 15*time.Second, o.MaxRetryDelay)
	require.Nil(t, o.StatusCodes, "azcore's list: 408, 429, 500, 502, 503, 504")
}

// TestThrottlingRetries: a read throttled six times in a row succeeds with the client this
// package builds, where azcore's default budget (3 retries) gives up; a read throttled past
// the budget, or refused by an unavailable service, is CodeUnavailable, for the caller to
// back off, not CodeInternal.
func TestThrottlingRetries(t *testing.T) {
	ctx := t.Context()
	t.Run("within the budget", func(t *testing.T) {
		f := newFakeCosmos(t, http.StatusTooManyRequests, 6)
		u, err := fakeStore(t, f, clientOptions()).GetUser(ctx, "b", "usr-1")
		require.NoError(t, err)
		require.Equal(t, "usr-1", u.ID)
		require.Equal(t, int64(7), f.reads.Load())
	})
	t.Run("azcore's default budget gives up", func(t *testing.T) {
		f := newFakeCosmos(t, http.StatusTooManyRequests, 6)
		_, err := fakeStore(t, f, nil).GetUser(ctx, "b", "usr-1")
		require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))
		require.Equal(t, int64(4), f.reads.Load())
	})
	t.Run("429 past the budget", func(t *testing.T) {
		f := newFakeCosmos(t, http.StatusTooManyRequests, 1000)
		_, err := fakeStore(t, f, clientOptions()).GetUser(ctx, "b", "usr-1")
		require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err), "%v", err)
		require.Equal(t, int64(10), f.reads.Load(), "1 try and 9 retries")
	})
	t.Run("503", func(t *testing.T) {
		// azcosmos's policy owns 503 (another region if there is one) and then stops azcore
		// from retrying; with one region, one try.
		f := newFakeCosmos(t, http.StatusServiceUnavailable, 1000)
		_, err := fakeStore(t, f, clientOptions()).GetUser(ctx, "b", "usr-1")
		require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err), "%v", err)
	})
}
