package cosmosstore

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/testenv"
)

// responseError is the error the SDK returns for a response: runtime.NewResponseError, wrapped
// once more as azcosmos wraps it with its diagnostics.
func responseError(status int, subStatus string) error {
	h := http.Header{}
	if subStatus != "" {
		h.Set("x-ms-substatus", subStatus)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://acct.documents.azure.com/dbs/gdpr/colls/users/docs/usr-1", nil)
	resp := &http.Response{StatusCode: status, Header: h, Request: req,
		Body: io.NopCloser(strings.NewReader(`{"code":"NotFound","message":"Entity with the specified id does not exist"}`))}
	return fmt.Errorf("azcosmos: %w", runtime.NewResponseError(resp))
}

// TestMapErrSubStatus: only a 404 about the item is not-found. A missing database or container
// (404/1003) is internal, so the erasure worker fails its job instead of completing it with
// nothing erased; the transient 404s are unavailable; throttling and outages are unavailable.
func TestMapErrSubStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		sub    string
		want   gdpr.Code
	}{
		{404, "", gdpr.CodeNotFound},        // no header (older gateways, the unpatched emulator)
		{404, "0", gdpr.CodeNotFound},       // the item
		{404, "1003", gdpr.CodeInternal},    // OwnerResourceNotFound: database or container missing
		{404, "1002", gdpr.CodeUnavailable}, // ReadSessionNotAvailable, after the SDK's own retry
		{404, "1013", gdpr.CodeUnavailable}, // container still being created
		{404, "1024", gdpr.CodeUnavailable}, // container recreated, stale cache
		{404, "9999", gdpr.CodeInternal},    // unknown: never taken for a missing item
		{409, "", gdpr.CodeConflict},
		{412, "0", gdpr.CodeConflict},
		{429, "3200", gdpr.CodeUnavailable}, // throttled once the SDK's retries are spent
		{503, "", gdpr.CodeUnavailable},
		{500, "", gdpr.CodeUnavailable},
		{408, "", gdpr.CodeUnavailable},
		{410, "1002", gdpr.CodeUnavailable}, // 1002 under 410 is a partition split, not a session
		{413, "", gdpr.CodeInternal},
		{403, "", gdpr.CodeInternal},
		{400, "", gdpr.CodeInternal},
	} {
		t.Run(fmt.Sprintf("%d_%s", tc.status, tc.sub), func(t *testing.T) {
			err := mapErr("read users", responseError(tc.status, tc.sub))
			require.Equal(t, tc.want, gdpr.ErrorCode(err))
			require.Equal(t, tc.want == gdpr.CodeNotFound, errorsIsNotFound(err))
			var ge *gdpr.Error
			require.ErrorAs(t, err, &ge)
			require.NotContains(t, ge.Message, "usr-1", "the message names no id (the cause, for logs, is the SDK's)")
		})
	}
	err := mapErr("read users", responseError(404, "1003"))
	require.Contains(t, err.Error(), "database or container does not exist")
	require.NotErrorIs(t, err, gdpr.ErrNotFound)
	require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(mapErr("read users", context.DeadlineExceeded)))
}

// TestSpecCheck: each way a container can differ from its spec is named, and a container made
// from the spec passes.
func TestSpecCheck(t *testing.T) {
	users, _ := Spec(ContainerUsers)
	tokens, _ := Spec(ContainerTokens)
	for _, spec := range Containers {
		require.Empty(t, spec.check(spec.Properties()), spec.Name)
	}
	ttl := func(v int32) *int32 { return &v }
	for _, tc := range []struct {
		name   string
		spec   ContainerSpec
		change func(*azcosmos.ContainerProperties)
		says   string
	}{
		{"partition key", users, func(p *azcosmos.ContainerProperties) { p.PartitionKeyDefinition.Paths = []string{"/id"} }, "partition key is [/id], want [/brandId]"},
		{"no composite index", users, func(p *azcosmos.ContainerProperties) { p.IndexingPolicy.CompositeIndexes = nil }, "no composite index (/nextReviewAt ASC, /id ASC)"},
		{"composite in another order", users, func(p *azcosmos.ContainerProperties) {
			p.IndexingPolicy.CompositeIndexes = [][]azcosmos.CompositeIndex{{{Path: "/id"}, {Path: "/nextReviewAt"}}}
		}, "no composite index"},
		{"composite mixed directions", users, func(p *azcosmos.ContainerProperties) {
			p.IndexingPolicy.CompositeIndexes[0][1].Order = azcosmos.CompositeIndexDescending
		}, "no composite index"},
		{"due path excluded", users, func(p *azcosmos.ContainerProperties) {
			p.IndexingPolicy.IncludedPaths = []azcosmos.IncludedPath{{Path: "/brandId/?"}, {Path: "/idpKey/?"}}
		}, "path /nextReviewAt/? is not indexed"},
		{"idp path excluded", users, func(p *azcosmos.ContainerProperties) {
			p.IndexingPolicy.IncludedPaths = []azcosmos.IncludedPath{{Path: "/brandId/?"}, {Path: "/nextReviewAt/?"}}
		}, "path /idpKey/? is not indexed"},
		{"indexing off", users, func(p *azcosmos.ContainerProperties) { p.IndexingPolicy.IndexingMode = azcosmos.IndexingModeNone }, `indexing mode is "None"`},
		{"ttl off where items expire", tokens, func(p *azcosmos.ContainerProperties) { p.DefaultTimeToLive = nil }, "default TTL is off, want -1"},
		{"ttl expiring everything", tokens, func(p *azcosmos.ContainerProperties) { p.DefaultTimeToLive = ttl(86400) }, "default TTL is 86400, want -1"},
		{"ttl on users", users, func(p *azcosmos.ContainerProperties) { p.DefaultTimeToLive = ttl(3600) }, "default TTL is 3600, want off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.spec.Properties()
			tc.change(&p)
			problems := tc.spec.check(p)
			require.Len(t, problems, 1, "%v", problems)
			require.Contains(t, problems[0], tc.says)
		})
	}

	// What Azure adds or spells its own way passes: order spelled out, reverse order, a
	// wildcard policy, TTL -1 on a container whose items carry none.
	p := users.Properties()
	p.IndexingPolicy.IndexingMode = "consistent"
	p.IndexingPolicy.IncludedPaths = []azcosmos.IncludedPath{{Path: "/*"}}
	p.IndexingPolicy.ExcludedPaths = []azcosmos.ExcludedPath{{Path: `/"_etag"/?`}, {Path: "/doc/*"}}
	p.IndexingPolicy.CompositeIndexes = [][]azcosmos.CompositeIndex{
		{{Path: "/brandId", Order: "ascending"}, {Path: "/id", Order: "ascending"}},
		{{Path: "/nextReviewAt", Order: "descending"}, {Path: "/id", Order: "descending"}},
	}
	p.DefaultTimeToLive = ttl(-1)
	require.Empty(t, users.check(p))
}

// ---- against the emulator ----

// newDatabase creates a database of its own holding the given containers, and a Store on it.
func newDatabase(t *testing.T, containers ...azcosmos.ContainerProperties) *Store {
	t.Helper()
	shared := openStore(t) // the emulator, and a client whose first call succeeded
	ctx := t.Context()
	name := testenv.Name(t, "verify")
	_, err := shared.client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: name}, nil)
	require.NoError(t, err)
	db, err := shared.client.NewDatabase(name)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.Delete(ctx, nil)
	})
	for _, p := range containers {
		_, err := db.CreateContainer(ctx, p, nil)
		require.NoError(t, err, p.ID)
	}
	s, err := New(shared.client, name)
	require.NoError(t, err)
	return s
}

// allBut returns the properties of every container of the spec, with change applied (nil:
// leave out) to the one named.
func allBut(name string, change func(*azcosmos.ContainerProperties) bool) []azcosmos.ContainerProperties {
	var out []azcosmos.ContainerProperties
	for _, spec := range Containers {
		p := spec.Properties()
		if spec.Name == name && !change(&p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func TestEmulatorVerify(t *testing.T) {
	ctx := t.Context()
	require.NoError(t, openStore(t).Verify(ctx), "EnsureSchema's database is what the code needs")

	t.Run("missing database", func(t *testing.T) {
		s, err := New(openStore(t).client, testenv.Name(t, "nodb"))
		require.NoError(t, err)
		err = s.Verify(ctx)
		require.Equal(t, gdpr.CodeInternal, gdpr.ErrorCode(err))
		require.Contains(t, err.Error(), "does not exist")
		require.Contains(t, err.Error(), s.database)
	})
	omit := func(*azcosmos.ContainerProperties) bool { return false }
	for _, tc := range []struct {
		name      string
		container string
		change    func(*azcosmos.ContainerProperties) bool
		says      string
	}{
		{"missing container", ContainerErasures, omit, `container "erasures" does not exist`},
		{"wrong partition key", ContainerUsers, func(p *azcosmos.ContainerProperties) bool {
			p.PartitionKeyDefinition.Paths = []string{"/id"}
			return true
		}, `container "users": partition key is [/id], want [/brandId]`},
		{"no composite index", ContainerContacts, func(p *azcosmos.ContainerProperties) bool {
			p.IndexingPolicy.CompositeIndexes = nil
			return true
		}, `container "contacts": no composite index (/nextReviewAt ASC, /id ASC)`},
		{"ttl off", ContainerClaims, func(p *azcosmos.ContainerProperties) bool {
			p.DefaultTimeToLive = nil
			return true
		}, `container "claims": default TTL is off, want -1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDatabase(t, allBut(tc.container, tc.change)...)
			err := s.Verify(ctx)
			require.Equal(t, gdpr.CodeInternal, gdpr.ErrorCode(err))
			require.Contains(t, err.Error(), tc.says)
			require.Contains(t, err.Error(), s.database)
			require.Equal(t, 1, strings.Count(err.Error(), "container "), "only the broken container is named: %v", err)
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		s := newDatabase(t, allBut(ContainerTokens, omit)[:3]...) // brands, users, contacts
		err := s.Verify(ctx)
		for _, name := range []string{ContainerClaims, ContainerBlacklist, ContainerWhitelist, ContainerTokens, ContainerErasures} {
			require.Contains(t, err.Error(), fmt.Sprintf("container %q does not exist", name))
		}
	})
}

// TestEmulatorMissingContainerIsNotNotFound: with a container missing, every kind of call —
// point read, query, batch, create — fails as internal, never as not-found: the erasure worker
// must not read "nothing to erase" from a misnamed container. A missing item in a container
// that exists is still not-found.
func TestEmulatorMissingContainerIsNotNotFound(t *testing.T) {
	ctx := t.Context()
	s := newDatabase(t, allBut(ContainerUsers, func(*azcosmos.ContainerProperties) bool { return false })...)
	brand := newBrand()
	requireInternal := func(t *testing.T, err error) {
		t.Helper()
		require.Equal(t, gdpr.CodeInternal, gdpr.ErrorCode(err), "%v", err)
		require.NotErrorIs(t, err, gdpr.ErrNotFound)
		require.Contains(t, err.Error(), "database or container does not exist")
	}
	_, err := s.GetUser(ctx, brand, "usr-1")
	requireInternal(t, err)
	_, err = s.GetUsers(ctx, brand, []string{"usr-1"})
	requireInternal(t, err)
	_, err = s.DueUsers(ctx, brand, base, gdpr.DueCursor{}, 10)
	requireInternal(t, err)
	_, err = s.UpdateUsers(ctx, brand, []gdpr.User{{BrandID: brand, ID: "usr-1", Version: "v"}})
	requireInternal(t, err)
	_, err = s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-1"})
	requireInternal(t, err)

	_, err = s.GetContact(ctx, brand, "con-1") // its container exists: the item is missing
	require.ErrorIs(t, err, gdpr.ErrNotFound)

	t.Run("missing database", func(t *testing.T) {
		s, err := New(openStore(t).client, testenv.Name(t, "nodb"))
		require.NoError(t, err)
		_, err = s.GetBrand(ctx, brand)
		requireInternal(t, err)
		_, err = s.ListErasures(ctx, brand, "", 10)
		requireInternal(t, err)
	})
}
