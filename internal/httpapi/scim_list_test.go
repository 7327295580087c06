package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
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
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(tb, err)
	core := gdpr.Core{Brands: st, Hasher: h}
	brands, err := gdpr.NewBrandService(core, st)
	require.NoError(tb, err)
	_, _, err = brands.PutBrand(ctx, scimTestBrand, gdpr.BrandSettings{Name: "Acme", SCIMToken: scimTestToken})
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

	cs := &countingStore{Store: st}
	prov, err := gdpr.NewProvisioningService(core, gdpr.ProvisioningDeps{Users: cs, Claims: cs, Queue: noQueue{}})
	require.NoError(tb, err)
	return &scimDirectory{handler: New(Options{Brands: brands, Provisioning: prov, BaseURL: "https://gdpr.example.test"}), store: cs}
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
