package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/ledgerstore"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/outbox"
	"popsell-gdpr/internal/password"
	"popsell-gdpr/internal/templates"
)

// The SCIM list path measured by what it reads, never by how long it takes: a counting store
// wrapper tells how many user documents and claims a request read (issue #24, finding 5).

// countingStore counts the documents the provisioning service reads through it.
type countingStore struct {
	*localstore.Store
	users  atomic.Int64 // user documents read
	claims atomic.Int64 // claims read
}

func (c *countingStore) GetUser(ctx context.Context, brand gdpr.BrandID, id string) (gdpr.User, error) {
	c.users.Add(1)
	return c.Store.GetUser(ctx, brand, id)
}

func (c *countingStore) GetUsers(ctx context.Context, brand gdpr.BrandID, ids []string) ([]gdpr.User, error) {
	c.users.Add(int64(len(ids)))
	return c.Store.GetUsers(ctx, brand, ids)
}

func (c *countingStore) ListUsers(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.User, error) {
	us, err := c.Store.ListUsers(ctx, brand, after, limit)
	c.users.Add(int64(len(us)))
	return us, err
}

func (c *countingStore) GetClaim(ctx context.Context, brand gdpr.BrandID, key string) (gdpr.Claim, error) {
	c.claims.Add(1)
	return c.Store.GetClaim(ctx, brand, key)
}

func (c *countingStore) UsersByIdPExternalID(ctx context.Context, brand gdpr.BrandID, id string, limit int) ([]gdpr.User, error) {
	us, err := c.Store.UsersByIdPExternalID(ctx, brand, id, limit)
	c.users.Add(int64(len(us)))
	return us, err
}

// reads is the documents read since the last call, and starts counting afresh.
func (c *countingStore) reads() (users, claims int64) {
	return c.users.Swap(0), c.claims.Swap(0)
}

type noQueue struct{}

func (noQueue) Publish(context.Context, string, gdpr.Message) (string, error) { return "", nil }
func (noQueue) PublishBatch(_ context.Context, _ string, msgs []gdpr.Message) ([]string, error) {
	return make([]string, len(msgs)), nil
}
func (noQueue) Cancel(context.Context, string, string) error { return nil }

// scimDirectory is a brand of n members behind the SCIM routes, on the embedded store.
type scimDirectory struct {
	handler http.Handler
	store   *countingStore
}

const (
	scimTestBrand = "acme"
	scimTestToken = "acme-scim-token-0123456789abcdef0123456789"
	// scimTestHashKey is the fixture's hash key: fake, for tests only.
	scimTestHashKey = "0123456789abcdef0123456789abcdef"
)

// Every member i of the fixture: userName ext-i, externalId idp-i, address member-i@..., first
// name Given-i, last name Family-i; every third one deactivated. Every tenth user of the brand
// signed up by the form instead (no userName): SCIM never shows it.
func fixtureUser(i int, now time.Time) gdpr.User {
	u := gdpr.User{BrandID: scimTestBrand, ID: fmt.Sprintf("m_%06d", i), Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
		Status: gdpr.UserActive, CreatedAt: now, ConfirmedAt: now,
		Email: fmt.Sprintf("member-%06d@example.test", i), FirstName: fmt.Sprintf("Given-%06d", i), LastName: fmt.Sprintf("Family-%06d", i)}
	if i%10 != 9 {
		u.ExternalID, u.IdPExternalID, u.SSOEventAt = fmt.Sprintf("ext-%06d", i), fmt.Sprintf("IdP-%06d", i), now
	}
	if i%3 == 2 {
		u.Status, u.Block = gdpr.UserBlocked, &gdpr.Block{Reason: gdpr.ReasonSSODeactivated, RequestedAt: now, DueAt: now.Add(30 * 24 * time.Hour), PreviousStatus: gdpr.UserActive}
	}
	return u
}

func newSCIMDirectory(tb testing.TB, n int) *scimDirectory {
	tb.Helper()
	ctx := context.Background()
	st, err := localstore.Open(filepath.Join(tb.TempDir(), "gdpr.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { st.Close() })
	h, err := gdpr.NewHasher("h1", []byte(scimTestHashKey))
	require.NoError(tb, err)
	// The app's wiring over the counting store; the ports SCIM never reaches are the local
	// adapters, over files of the test's own.
	cs := &countingStore{Store: st}
	dir := tb.TempDir()
	mail, err := outbox.New(filepath.Join(dir, "outbox"), h)
	require.NoError(tb, err)
	s, err := gdpr.NewServices(gdpr.Core{Hasher: h}, gdpr.Platform{Store: cs, Queue: noQueue{}, Blobs: blobstore.NewFolder(filepath.Join(dir, "blobs")),
		Mailer: mail, SentMail: mail, Links: Links{BaseURL: "https://gdpr.example.test"}, Passwords: password.Bcrypt{Cost: password.MinCost},
		Renderer: templates.New(), Ledger: ledgerstore.New(blobstore.NewFolder(filepath.Join(dir, "ledger"))),
		Exports: blobstore.NewFolder(filepath.Join(dir, "exports")), MemberFiles: blobstore.NewFolder(filepath.Join(dir, "blobs"))})
	require.NoError(tb, err)
	_, _, err = s.Brands.PutBrand(ctx, scimTestBrand, gdpr.BrandSettings{Name: "Acme", SCIMToken: scimTestToken})
	require.NoError(tb, err)

	now := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	users := make([]gdpr.User, 0, n)
	var claims []gdpr.Claim
	for i := range n {
		u := fixtureUser(i, now)
		users = append(users, u)
		claims = append(claims, gdpr.Claim{BrandID: u.BrandID, Key: gdpr.ClaimEmail + h.EmailDigest(u.Email), Owner: u.ID, CreatedAt: now})
		if u.ExternalID != "" {
			claims = append(claims, gdpr.Claim{BrandID: u.BrandID, Key: gdpr.ClaimExternalID + h.Digest(u.ExternalID), Owner: u.ID, CreatedAt: now})
		}
	}
	require.NoError(tb, st.BulkCreateUsers(ctx, users))
	require.NoError(tb, st.BulkClaims(ctx, claims))

	return &scimDirectory{handler: New(Options{Brands: s.Brands, Provisioning: s.Provisioning, BaseURL: "https://gdpr.example.test"}), store: cs}
}

// list runs GET /Users with the query given and returns the recorder.
func (d *scimDirectory) list(tb testing.TB, q url.Values) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest("GET", "/api/brands/"+scimTestBrand+"/scim/v2/Users?"+q.Encode(), nil)
	r.Header.Set("Authorization", "Bearer "+scimTestToken)
	w := httptest.NewRecorder()
	d.handler.ServeHTTP(w, r)
	return w
}

// benchmarkSCIMList measures one list request at 6,000 users (issue #24 measured 106-188 ms
// for a non-indexed filter at that size), and reports the user documents read per request.
func benchmarkSCIMList(b *testing.B, filter func(i int) string) {
	d := newSCIMDirectory(b, 6000)
	d.store.reads()
	n := 0
	for b.Loop() {
		n++
		w := d.list(b, url.Values{"filter": {filter(n)}})
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	users, claims := d.store.reads()
	b.ReportMetric(float64(users)/float64(n), "users-read/op")
	b.ReportMetric(float64(claims)/float64(n), "claims-read/op")
}

// BenchmarkSCIMListUserNameEq: the lookup Entra ID and Okta send before every create.
func BenchmarkSCIMListUserNameEq(b *testing.B) {
	benchmarkSCIMList(b, func(i int) string { return fmt.Sprintf(`userName eq "ext-%06d"`, (i*7919)%6000) })
}

// BenchmarkSCIMListExternalIDEq: Entra ID's other matching attribute.
func BenchmarkSCIMListExternalIDEq(b *testing.B) {
	benchmarkSCIMList(b, func(i int) string { return fmt.Sprintf(`externalId eq "IdP-%06d"`, (i*7919)%6000) })
}

// BenchmarkSCIMListEmailEq: an email lookup, as a provider matching on mail sends it.
func BenchmarkSCIMListEmailEq(b *testing.B) {
	benchmarkSCIMList(b, func(i int) string { return fmt.Sprintf(`emails.value eq "member-%06d@example.test"`, (i*7919)%6000) })
}

// BenchmarkSCIMListSelectiveScan: a non-indexed filter that matches one user: the whole
// brand is read, within the scan budget.
func BenchmarkSCIMListSelectiveScan(b *testing.B) {
	benchmarkSCIMList(b, func(i int) string { return fmt.Sprintf(`name.familyName eq "Family-%06d"`, (i*7919)%6000) })
}

// BenchmarkSCIMListBroadScan: a non-indexed filter most users match, first page of 100.
func BenchmarkSCIMListBroadScan(b *testing.B) {
	benchmarkSCIMList(b, func(int) string { return `active eq true` })
}

// listBody is the ListResponse of a 200.
type listBody struct {
	TotalResults int `json:"totalResults"`
	StartIndex   int `json:"startIndex"`
	ItemsPerPage int `json:"itemsPerPage"`
	Resources    []struct {
		ID string `json:"id"`
	} `json:"Resources"`
}

func decodeList(t *testing.T, w *httptest.ResponseRecorder) (listBody, []string) {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var l listBody
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &l))
	ids := []string{}
	for _, r := range l.Resources {
		ids = append(ids, r.ID)
	}
	return l, ids
}

// scimShown reports whether SCIM shows fixture member i (provisioned, not erased).
func scimShown(i int) bool { return i%10 != 9 }

// TestSCIMIndexedFiltersReadFewDocuments: the filters identity providers look users up with
// read a few documents through indexes, whatever the brand's size — never the brand (issue
// #24, finding 5) — and find exactly the user the filter names.
func TestSCIMIndexedFiltersReadFewDocuments(t *testing.T) {
	const n = 2000
	d := newSCIMDirectory(t, n)
	// A claim on an address its member no longer has (a change of address that crashed before
	// releasing it) finds nobody.
	h, err := gdpr.NewHasher("h1", []byte(scimTestHashKey))
	require.NoError(t, err)
	require.NoError(t, d.store.BulkClaims(t.Context(), []gdpr.Claim{{BrandID: scimTestBrand,
		Key: gdpr.ClaimEmail + h.EmailDigest("former-000123@example.test"), Owner: "m_000123", CreatedAt: time.Now().UTC()}}))
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`emails.value eq "former-000123@example.test"`, nil},
		{`userName eq "ext-000123"`, []string{"m_000123"}},
		{`userName eq "EXT-000123"`, []string{"m_000123"}}, // caseExact false (RFC 7643 §4.1.1)
		{`externalId eq "IdP-000123"`, []string{"m_000123"}},
		{`externalId eq "idp-000123"`, nil}, // caseExact
		{`emails.value eq "Member-000124@Example.test"`, []string{"m_000124"}},
		{`emails eq "member-000124@example.test"`, []string{"m_000124"}},
		{`emails[type eq "work"].value eq "member-001500@example.test"`, []string{"m_001500"}},
		{`emails[type eq "home" and value eq "member-001500@example.test"]`, nil}, // the index finds, the filter decides
		{`id eq "m_001998"`, []string{"m_001998"}},                                // deactivated: still shown, active false
		{`id eq "M_001998"`, nil},
		{`userName eq "ext-000123" and active eq true`, []string{"m_000123"}},
		{`userName eq "ext-000123" and active eq false`, nil},
		{`userName eq "ext-000003" or externalId eq "IdP-000004" or id eq "m_000005"`, []string{"m_000003", "m_000004", "m_000005"}},
		{`emails.value eq "member-000009@example.test"`, nil}, // signed up by the form: not SCIM's
		{`id eq "m_000019"`, nil},
		{`userName eq "nobody"`, nil},
	} {
		d.store.reads()
		l, ids := decodeList(t, d.list(t, url.Values{"filter": {tc.filter}}))
		users, claims := d.store.reads()
		require.Equal(t, append([]string{}, tc.want...), ids, tc.filter)
		require.Equal(t, len(tc.want), l.TotalResults, tc.filter)
		require.LessOrEqual(t, users, int64(6), "%s: user documents read", tc.filter)
		require.LessOrEqual(t, claims, int64(6), "%s: claims read", tc.filter)
	}
}

// TestSCIMScanStopsOnceThePageIsFilled: a filter without an index key reads the brand in id
// order only as far as the requested page needs (early paging), and paging by totalResults
// as Okta does still collects every match exactly once.
func TestSCIMScanStopsOnceThePageIsFilled(t *testing.T) {
	const n = 2000
	d := newSCIMDirectory(t, n)
	var active []string // what `active eq true` must find, in id order
	for i := range n {
		if scimShown(i) && i%3 != 2 {
			active = append(active, fmt.Sprintf("m_%06d", i))
		}
	}

	d.store.reads()
	l, ids := decodeList(t, d.list(t, url.Values{"filter": {"active eq true"}, "count": {"10"}}))
	users, _ := d.store.reads()
	require.Equal(t, active[:10], ids)
	require.Greater(t, l.TotalResults, 10, "more may follow: the client asks for the next page")
	require.LessOrEqual(t, users, int64(scimListMinPage), "the first page reads one small chunk, not %d users", n)

	l, ids = decodeList(t, d.list(t, url.Values{"filter": {"active eq true"}, "startIndex": {"301"}, "count": {"5"}}))
	users, _ = d.store.reads()
	require.Equal(t, active[300:305], ids)
	require.Equal(t, 301, l.StartIndex)
	require.Less(t, users, int64(n), "a page in the middle reads up to it, not the brand")

	var got []string
	requests := 0
	for start := 1; ; start += 100 {
		requests++
		l, ids := decodeList(t, d.list(t, url.Values{"filter": {"active eq true"}, "startIndex": {fmt.Sprint(start)}, "count": {"100"}}))
		got = append(got, ids...)
		if start+100 > l.TotalResults {
			require.Equal(t, len(active), l.TotalResults, "the last page's total is exact")
			break
		}
	}
	require.Equal(t, active, got, "every match once, in id order")
	require.Equal(t, len(active)/100+1, requests)

	l, ids = decodeList(t, d.list(t, url.Values{"filter": {"active eq true"}, "count": {"0"}}))
	require.Equal(t, len(active), l.TotalResults, "count=0 asks for the exact total")
	require.Empty(t, ids)
	l, ids = decodeList(t, d.list(t, url.Values{"filter": {`name.familyName eq "Family-001998"`}}))
	require.Equal(t, []string{"m_001998"}, ids)
	require.Equal(t, 1, l.TotalResults, "a scan that reached the end is exact")
	l, ids = decodeList(t, d.list(t, url.Values{"startIndex": {"5000"}}))
	require.Empty(t, ids)
	require.Equal(t, n-n/10, l.TotalResults, "no filter: every member SCIM shows")
}

// TestSCIMScanBudgetAnswersTooMany: past scimScanBudget documents read, a filter without an
// index key is refused with 400 tooMany (RFC 7644 §3.12), having read no more than the
// budget; one whose page fills early is answered.
func TestSCIMScanBudgetAnswersTooMany(t *testing.T) {
	n := scimScanBudget + 500
	d := newSCIMDirectory(t, n)
	late := fmt.Sprintf("Family-%06d", n-2)
	for _, q := range []url.Values{
		{"filter": {`name.familyName eq "` + late + `"`}},
		{"filter": {"active eq true"}, "count": {"0"}},
		{"filter": {"active eq true"}, "startIndex": {"9990"}, "count": {"100"}},
	} {
		d.store.reads()
		w := d.list(t, q)
		users, _ := d.store.reads()
		require.Equal(t, http.StatusBadRequest, w.Code, q.Encode())
		var e struct{ Status, ScimType, Detail string }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
		require.Equal(t, "tooMany", e.ScimType)
		require.Contains(t, e.Detail, "indexed")
		require.NotContains(t, w.Body.String(), late, "the error never echoes the filter")
		require.LessOrEqual(t, users, int64(scimScanBudget), "%s: within the budget", q.Encode())
	}
	l, ids := decodeList(t, d.list(t, url.Values{"filter": {`name.familyName eq "Family-000007"`}, "count": {"1"}}))
	require.Equal(t, []string{"m_000007"}, ids, "a page that fills within the budget is answered")
	require.Equal(t, 2, l.TotalResults)
	users, _ := d.store.reads()
	require.LessOrEqual(t, users, int64(scimListMinPage))
	_, ids = decodeList(t, d.list(t, url.Values{"filter": {`userName eq "ext-` + fmt.Sprintf("%06d", n-2) + `"`}}))
	require.Equal(t, []string{fmt.Sprintf("m_%06d", n-2)}, ids, "indexed filters have no budget to exhaust")
}
