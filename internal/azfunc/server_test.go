package azfunc_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
)

func TestListenAddr(t *testing.T) {
	t.Run("port from the host", func(t *testing.T) {
		t.Setenv("FUNCTIONS_CUSTOMHANDLER_PORT", "40123")
		assert.Equal(t, "127.0.0.1:40123", azfunc.ListenAddr(), "loopback only: the host dials 127.0.0.1")
	})
	t.Run("7071 without a host", func(t *testing.T) {
		t.Setenv("FUNCTIONS_CUSTOMHANDLER_PORT", "")
		assert.Equal(t, "127.0.0.1:7071", azfunc.ListenAddr())
	})
}

func TestReadiness(t *testing.T) {
	rec := httptest.NewRecorder()
	azfunc.Readiness().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"status":"ready"}`, rec.Body.String())
}

// serve runs azfunc.Serve on a fresh ":0" listener, as main does with
// ListenAddr, and returns the URL the host would dial and Serve's result.
func serve(t *testing.T, ctx context.Context, h http.Handler, bound time.Duration) (url string, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { errc <- azfunc.Serve(ctx, ln, h, bound) }()
	return "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), errc
}

func get(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestServe(t *testing.T) {
	t.Run("answers the host on 127.0.0.1 when bound to :port", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		url, done := serve(t, ctx, azfunc.Readiness(), time.Second)
		status, err := get(url + "/")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, status)
		cancel()
		assert.NoError(t, <-done)
	})

	t.Run("in-flight request finishes before shutdown", func(t *testing.T) {
		started := make(chan struct{})
		h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			close(started)
			time.Sleep(100 * time.Millisecond)
			w.WriteHeader(http.StatusOK)
		})
		ctx, cancel := context.WithCancel(context.Background())
		url, done := serve(t, ctx, h, 5*time.Second)

		statusc := make(chan int, 1)
		go func() { s, _ := get(url + "/slow"); statusc <- s }()
		<-started
		cancel()

		assert.NoError(t, <-done)
		assert.Equal(t, http.StatusOK, <-statusc)
	})

	t.Run("shutdown is bounded while a request hangs", func(t *testing.T) {
		started, abandoned, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
		defer close(release)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			select {
			case <-r.Context().Done():
				close(abandoned)
			case <-release:
			}
		})
		const bound = 200 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		url, done := serve(t, ctx, h, bound)

		go func() { _, _ = get(url + "/hang") }()
		<-started
		begin := time.Now()
		cancel()

		// Serve returns once the bound has passed, abandoning the hanging request; how soon
		// after depends on the machine, so only the lower bound is asserted (a hang is go
		// test's timeout to report).
		err := <-done
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.GreaterOrEqual(t, time.Since(begin), bound)
		<-abandoned // the hanging request's context was cancelled
	})

	t.Run("listener failure is returned", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.NoError(t, ln.Close())
		err = azfunc.Serve(context.Background(), ln, azfunc.Readiness(), time.Second)
		assert.Error(t, err)
	})
}
