package cosmosstore

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

func TestSessionTokenMerge(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want string
	}{
		{"nothing yet", nil, ""},
		{"latest lsn of a range", []string{"0:-1#5", "0:-1#3"}, "0:-1#5"},
		{"ranges kept apart", []string{"1:-1#7", "0:-1#5", "1:-1#6"}, "0:-1#5,1:-1#7"},
		{"several ranges in one header", []string{"0:-1#5,2:-1#1", "2:-1#4"}, "0:-1#5,2:-1#4"},
		{"regions merged one by one", []string{"0:2#10#1=8#2=5", "0:2#9#1=9#2=4#3=1"}, "0:2#10#1=9#2=5#3=1"},
		{"a higher version wins outright", []string{"0:3#4#1=2", "0:2#10#1=8"}, "0:3#4#1=2"},
		{"old-style bare lsn", []string{"0:12", "0:15", "0:9"}, "0:15"},
		{"what does not parse gives way", []string{"0:abc", "0:-1#5", "0:x#y"}, "0:-1#5"},
		{"malformed entries are skipped", []string{"nonsense", ":1", "0:", "0:-1#2"}, "0:-1#2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s sessionToken
			for _, h := range tc.in {
				s.observe(h)
			}
			if tc.want == "" {
				require.Nil(t, s.get())
				return
			}
			require.Equal(t, tc.want, *s.get())
		})
	}

	t.Run("concurrent writers keep the latest", func(t *testing.T) {
		var s sessionToken
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				s.observe(fmt.Sprintf("0:-1#%d,1:-1#%d", i, 1000-i))
				_ = s.get()
			})
		}
		wg.Wait()
		require.Equal(t, "0:-1#63,1:-1#1000", *s.get())
	})
}

// call is one request the recorder saw.
type call struct {
	method, path string
	batch        bool
	sent, got    string // x-ms-session-token of the request and of the response
	bodyBytes    int64
	status       int
}

// recorder is a per-call pipeline policy that records every request a client sends.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	c := call{method: raw.Method, path: raw.URL.Path, sent: raw.Header.Get(headerSessionToken),
		batch: raw.Header.Get("x-ms-cosmos-is-batch-request") == "True", bodyBytes: raw.ContentLength}
	resp, err := req.Next()
	if resp != nil {
		c.got, c.status = resp.Header.Get(headerSessionToken), resp.StatusCode
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return resp, err
}

// last returns the last call whose method and path suffix match.
func (r *recorder) last(t *testing.T, method, pathSuffix string) call {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.calls) - 1; i >= 0; i-- {
		if c := r.calls[i]; c.method == method && strings.HasSuffix(c.path, pathSuffix) {
			return c
		}
	}
	t.Fatalf("no %s …%s call", method, pathSuffix)
	return call{}
}

func (r *recorder) all() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// recordingStore is a Store of its own (fresh session state) on the shared test database,
// whose client records every request.
func recordingStore(t *testing.T) (*Store, *recorder) {
	t.Helper()
	shared := openStore(t)
	endpoint, key := cosmosEndpoint(t)
	cred, err := azcosmos.NewKeyCredential(key)
	require.NoError(t, err)
	rec := &recorder{}
	opts := clientOptions()
	opts.PerCallPolicies = append(opts.PerCallPolicies, rec)
	client, err := azcosmos.NewClientWithKey(endpoint, cred, opts)
	require.NoError(t, err)
	s, err := New(client, shared.database)
	require.NoError(t, err)
	return s, rec
}

// covers reports whether the token sent on a read includes the state a write returned: for
// every range of the write, the read's entry is at least as recent.
func covers(sent, written string) bool {
	var s sessionToken
	s.observe(sent)
	before := s.get()
	s.observe(written)
	return before != nil && *before == *s.get()
}

// TestEmulatorReadYourWrites: every read and query after a write carries a session token that
// covers that write — point writes, deletes and batches — and sees the write. Tokens are kept
// per container, and per Store: another Store (another instance) carries none.
func TestEmulatorReadYourWrites(t *testing.T) {
	ctx := t.Context()
	s, rec := recordingStore(t)
	brand := newBrand()

	_, err := s.GetUser(ctx, brand, "usr-1")
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	require.Empty(t, rec.last(t, http.MethodGet, "/docs/usr-1").sent, "nothing written yet, no token")

	u, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-1", FirstName: "orig", NextReviewAt: base})
	require.NoError(t, err)
	created := rec.last(t, http.MethodPost, "/colls/users/docs").got
	require.NotEmpty(t, created, "the emulator answers writes with a session token")

	got, err := s.GetUser(ctx, brand, "usr-1")
	require.NoError(t, err)
	require.Equal(t, "orig", got.FirstName)
	read := rec.last(t, http.MethodGet, "/docs/usr-1").sent
	require.True(t, covers(read, created), "the read carries the create's token: sent %q, written %q", read, created)

	u.FirstName = "updated"
	u, err = s.UpdateUser(ctx, u)
	require.NoError(t, err)
	replaced := rec.last(t, http.MethodPut, "/docs/usr-1").got
	due, err := s.DueUsers(ctx, brand, base, gdpr.DueCursor{}, 10)
	require.NoError(t, err)
	require.Equal(t, "updated", due[0].FirstName)
	query := rec.last(t, http.MethodPost, "/colls/users/docs").sent
	require.True(t, covers(query, replaced), "the query carries the replace's token: sent %q, written %q", query, replaced)

	u.FirstName = "batched"
	u2, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-2", NextReviewAt: base})
	require.NoError(t, err)
	_, err = s.UpdateUsers(ctx, brand, []gdpr.User{u, u2}) // two: a batch of one is a plain replace

	require.NoError(t, err)
	var batched string
	for _, c := range rec.all() {
		if c.batch {
			batched = c.got
		}
	}
	require.NotEmpty(t, batched)
	got, err = s.GetUser(ctx, brand, "usr-1")
	require.NoError(t, err)
	require.Equal(t, "batched", got.FirstName)
	read = rec.last(t, http.MethodGet, "/docs/usr-1").sent
	require.True(t, covers(read, batched), "the read carries the batch's token: sent %q, written %q", read, batched)

	// A delete's token too: a released claim reads as gone.
	_, err = s.Claim(ctx, gdpr.Claim{BrandID: brand, Key: "k-1", Owner: "a", CreatedAt: base})
	require.NoError(t, err)
	require.NoError(t, s.ReleaseClaims(ctx, brand, gdpr.Claim{Key: "k-1", Owner: "a"}))
	deleted := rec.last(t, http.MethodDelete, "/docs/k-1").got
	_, err = s.GetClaim(ctx, brand, "k-1")
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	read = rec.last(t, http.MethodGet, "/colls/claims/docs/k-1").sent
	require.True(t, covers(read, deleted), "the read carries the delete's token: sent %q, written %q", read, deleted)

	// Per container: nothing was written to contacts through this Store.
	_, err = s.GetContact(ctx, brand, "con-1")
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	require.Empty(t, rec.last(t, http.MethodGet, "/colls/contacts/docs/con-1").sent)

	// Per Store: another instance starts with none.
	other, otherRec := recordingStore(t)
	_, err = other.GetUser(ctx, brand, "usr-1")
	require.NoError(t, err)
	require.Empty(t, otherRec.last(t, http.MethodGet, "/docs/usr-1").sent)
}
