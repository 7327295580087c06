package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// heldRequests serves requests through limitBodies; a request with X-Hold says so on entered
// and waits on release before it reads its body (after, with X-Read-First) and answers 200.
type heldRequests struct {
	h       http.Handler
	a       *api
	entered chan string
	release sync.Map // X-Hold → chan struct{}
}

// let releases the request held as id.
func (s *heldRequests) let(id string) { s.gate(id) <- struct{}{} }

func (s *heldRequests) gate(id string) chan struct{} {
	c, _ := s.release.LoadOrStore(id, make(chan struct{}))
	return c.(chan struct{})
}

func newHeldRequests() *heldRequests {
	s := &heldRequests{a: &api{log: slog.New(slog.DiscardHandler)}, entered: make(chan string)}
	s.a.initBodyBudget()
	s.h = s.a.limitBodies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Read-First") != "" {
			_, _ = io.Copy(io.Discard, r.Body)
		}
		if id := r.Header.Get("X-Hold"); id != "" {
			s.entered <- id
			<-s.gate(id)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	return s
}

// request is a POST to path declaring length bytes (-1: chunked) and sending body.
func request(path string, length int64, body string, hold string) *http.Request {
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.ContentLength = length
	if hold != "" {
		r.Header.Set("X-Hold", hold)
	}
	return r
}

// serve answers r in the background.
func (s *heldRequests) serve(r *http.Request) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		done <- w
	}()
	return done
}

// TestBytesInFlightBounded is finding 6 of issue 24: eight 16 MiB Mailjet callbacks at once
// took the process from 135 to 574 MB. Bodies in flight are bounded by MaxBytesInFlight,
// counted at their declared length (or their route's limit): a body past it is answered 503
// with Retry-After, before it is read, and is taken again once the budget frees.
func TestBytesInFlightBounded(t *testing.T) {
	s := newHeldRequests()
	const events = "/api/brands/acme/mailjet/events"
	held := MaxBytesInFlight / MaxMailEventBytes
	require.GreaterOrEqual(t, held, 1)
	var answers []<-chan *httptest.ResponseRecorder
	for i := range held {
		answers = append(answers, s.serve(request(events, MaxMailEventBytes, "", string(rune('a'+i)))))
		<-s.entered
	}

	for name, r := range map[string]*http.Request{
		"a large callback":       request(events, MaxMailEventBytes, "[]", ""),
		"a small declared body":  request("/api/brands/acme/signup", 100, "{}", ""),
		"a body of unknown size": request("/api/brands/acme/signup", -1, "{}", ""),
		"a SCIM body":            request("/api/brands/acme/scim/v2/Users", 100, "{}", ""),
	} {
		select {
		case w := <-s.serve(r):
			require.Equal(t, http.StatusServiceUnavailable, w.Code, name)
			require.Equal(t, "1", w.Header().Get("Retry-After"), name)
			var body struct {
				Error  struct{ Code, Message string }
				Detail string // SCIM's error
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), name)
			if strings.Contains(r.URL.Path, "/scim/") {
				require.NotEmpty(t, body.Detail, name)
			} else {
				require.Equal(t, "unavailable", body.Error.Code, name)
				require.NotEmpty(t, body.Error.Message, name)
			}
		case id := <-s.entered:
			t.Fatalf("%s was let in past the budget (%s)", name, id)
		}
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, httptest.NewRequest("GET", "/api/health", nil))
	require.Equal(t, http.StatusOK, w.Code, "a request without a body needs no budget")

	// The host's envelope waits for the budget rather than fail a delivery.
	envelope := s.serve(request("/MailSender", -1, `{"Data":{}}`, "envelope"))

	s.let("a") // one callback ends
	require.Equal(t, http.StatusOK, (<-answers[0]).Code)
	require.Equal(t, "envelope", <-s.entered)
	s.let("envelope")
	require.Equal(t, http.StatusOK, (<-envelope).Code)
	for i, done := range answers[1:] {
		s.let(string(rune('b' + i)))
		require.Equal(t, http.StatusOK, (<-done).Code)
	}
	require.Equal(t, http.StatusOK, (<-s.serve(request(events, MaxMailEventBytes, "[]", ""))).Code, "taken again once the budget frees")
	require.True(t, s.a.bodyBudget.TryAcquire(MaxBytesInFlight), "every reservation was released")
}

// TestBodyOfUnknownSizeHoldsWhatItRead: a chunked body reserves its route's limit while it is
// read, and only what it held once read, so small envelopes do not hold 4 MiB each while
// their function runs.
func TestBodyOfUnknownSizeHoldsWhatItRead(t *testing.T) {
	s := newHeldRequests()
	unread := s.serve(request("/api/brands/acme/signup", -1, "{}", "unread"))
	<-s.entered
	require.True(t, s.a.bodyBudget.TryAcquire(MaxBytesInFlight-MaxBodyBytes), "an unread chunked body holds its route's limit")
	require.False(t, s.a.bodyBudget.TryAcquire(1))
	s.a.bodyBudget.Release(MaxBytesInFlight - MaxBodyBytes)
	s.let("unread")
	require.Equal(t, http.StatusOK, (<-unread).Code)

	r := request("/MailSender", -1, "0123456789", "envelope")
	r.Header.Set("X-Read-First", "1")
	done := s.serve(r)
	<-s.entered
	require.True(t, s.a.bodyBudget.TryAcquire(MaxBytesInFlight-10), "only the 10 bytes read are held")
	require.False(t, s.a.bodyBudget.TryAcquire(1))
	s.a.bodyBudget.Release(MaxBytesInFlight - 10)
	s.let("envelope")
	require.Equal(t, http.StatusOK, (<-done).Code)
	require.True(t, s.a.bodyBudget.TryAcquire(MaxBytesInFlight))
}

// TestDeclaredBodyReadInOneBuffer: a body of declared length is read into one buffer of that
// size, not by doubling, which cost a 16 MiB callback twice its size in garbage (issue 24).
func TestDeclaredBodyReadInOneBuffer(t *testing.T) {
	const n = 4 << 20
	body := strings.Repeat("a", n)
	var got []byte
	var err error
	alloc := allocatedBy(func() {
		got, err = readBodyUpTo(httptest.NewRequest("POST", "/api/x", strings.NewReader(body)), MaxMailEventBytes)
	})
	require.NoError(t, err)
	require.Len(t, got, n)
	require.Less(t, alloc, uint64(n+n/4), "allocated %d bytes for a body of %d", alloc, n)
}

// TestBodyOfUnknownLengthReadWhole: without a declared length the buffer grows as the body
// comes, up to the limit and no further.
func TestBodyOfUnknownLengthReadWhole(t *testing.T) {
	body := strings.Repeat("0123456789", 100_000)
	r := httptest.NewRequest("POST", "/api/x", strings.NewReader(body))
	r.ContentLength = -1
	got, err := readBodyUpTo(r, MaxBodyBytes)
	require.NoError(t, err)
	require.Equal(t, body, string(got))

	r = httptest.NewRequest("POST", "/api/x", strings.NewReader(body+strings.Repeat("x", MaxBodyBytes)))
	r.ContentLength = -1
	_, err = readBodyUpTo(r, MaxBodyBytes)
	var he *httpError
	require.ErrorAs(t, err, &he)
	require.Equal(t, http.StatusRequestEntityTooLarge, he.status)
}
