package cosmosstore

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"popsell-gdpr/internal/gdpr"
)

// Verify reads the database and every container of Containers and checks what the code relies
// on: each container exists, is partitioned by PartitionKeyPath, indexes consistently the
// paths its queries filter on, has the composite index its ORDER BY needs (users and contacts:
// nextReviewAt ASC, id ASC), and has the default TTL its documents assume (tokens and claims:
// -1, so that only items carrying a ttl expire; every other container: no expiry). It changes
// nothing.
//
// Call it once at start in Azure mode, before serving, and refuse to start on error. Bicep
// creates the schema there and nothing checks it at run time: a misnamed database or container
// answers 404 to every call, and a wrong TTL or partition key loses or mislays documents
// silently. (EnsureSchema, for the emulator, creates what is missing instead.)
//
// The error is a *gdpr.Error. CodeInternal: the schema is wrong; its message lists every
// problem, naming the database, the container and what differs, never an endpoint or a key.
// CodeUnavailable: Cosmos DB could not be asked (network, throttling), and starting again
// later may pass. Any other failure to read (401/403: the identity lacks the readMetadata
// action, which both built-in data roles carry at the database scope or wider) is
// CodeInternal.
func (s *Store) Verify(ctx context.Context) error {
	db, err := s.client.NewDatabase(s.database)
	if err != nil {
		return &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: verify: database " + s.database, Err: err}
	}
	if _, err := db.Read(ctx, nil); err != nil {
		if statusOf(err) == http.StatusNotFound {
			return &gdpr.Error{Code: gdpr.CodeInternal, Err: err,
				Message: fmt.Sprintf("cosmosstore: verify: database %q does not exist", s.database)}
		}
		return mapErr("verify: read database "+s.database, err)
	}
	var problems []string
	for _, spec := range Containers {
		cc, err := db.NewContainer(spec.Name)
		if err != nil {
			return &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: verify: container " + spec.Name, Err: err}
		}
		resp, err := cc.Read(ctx, nil)
		switch {
		case statusOf(err) == http.StatusNotFound:
			problems = append(problems, fmt.Sprintf("container %q does not exist", spec.Name))
			continue
		case err != nil:
			return mapErr("verify: read container "+spec.Name, err)
		case resp.ContainerProperties == nil:
			problems = append(problems, fmt.Sprintf("container %q: no properties returned", spec.Name))
			continue
		}
		for _, p := range spec.check(*resp.ContainerProperties) {
			problems = append(problems, fmt.Sprintf("container %q: %s", spec.Name, p))
		}
	}
	if len(problems) > 0 {
		return &gdpr.Error{Code: gdpr.CodeInternal, Message: fmt.Sprintf(
			"cosmosstore: database %q does not match the schema the code needs: %s", s.database, strings.Join(problems, "; "))}
	}
	return nil
}

// check compares a container as Cosmos DB describes it with the spec and returns what differs,
// in words an operator can act on. Only what the code relies on is checked: extra indexes or
// included paths are harmless and left alone.
func (c ContainerSpec) check(p azcosmos.ContainerProperties) []string {
	var problems []string
	if pk := p.PartitionKeyDefinition; len(pk.Paths) != 1 || pk.Paths[0] != c.PartitionKey {
		problems = append(problems, fmt.Sprintf("partition key is %v, want [%s]", pk.Paths, c.PartitionKey))
	}

	ip := p.IndexingPolicy
	if ip == nil {
		ip = &azcosmos.IndexingPolicy{} // as the service reports "none"
	}
	// Lazy or none would leave the due and member queries without the index they filter on
	// (mode none refuses them outright).
	if !strings.EqualFold(string(ip.IndexingMode), string(azcosmos.IndexingModeConsistent)) {
		problems = append(problems, fmt.Sprintf("indexing mode is %q, want %q", ip.IndexingMode, azcosmos.IndexingModeConsistent))
	}
	for _, path := range c.IndexedPaths {
		if !indexed(ip, path) {
			problems = append(problems, fmt.Sprintf("path %s is not indexed", path))
		}
	}
	for _, want := range c.CompositeIndexes {
		if !hasComposite(ip.CompositeIndexes, want) {
			problems = append(problems, fmt.Sprintf("no composite index (%s ASC)", strings.Join(want, " ASC, ")))
		}
	}

	wantTTL, wantOn := c.DefaultTTL()
	switch got := p.DefaultTimeToLive; {
	case wantOn && (got == nil || *got != wantTTL):
		// Off: tokens and claims never expire. Positive: claims held until released expire.
		problems = append(problems, fmt.Sprintf("default TTL is %s, want %d (on, items without ttl never expire)", ttlText(got), wantTTL))
	case !wantOn && got != nil && *got != -1:
		// -1 only lets items carrying a ttl expire, and these containers' items carry none;
		// a positive default would delete every document that old.
		problems = append(problems, fmt.Sprintf("default TTL is %s, want off: its documents must never expire", ttlText(got)))
	}
	return problems
}

// indexed reports whether the range index of the policy covers path ("/nextReviewAt/?"): it is
// included, or everything is and it is not excluded.
func indexed(ip *azcosmos.IndexingPolicy, path string) bool {
	parent := strings.TrimSuffix(path, "/?")
	covers := func(p string) bool { return p == path || p == parent+"/*" || p == "/*" }
	for _, ex := range ip.ExcludedPaths {
		if ex.Path == path || ex.Path == parent+"/*" {
			return false
		}
	}
	for _, in := range ip.IncludedPaths {
		if covers(in.Path) {
			return true
		}
	}
	return false
}

// hasComposite reports a composite index on paths, all ascending or all descending: Cosmos
// DB serves an ORDER BY from a composite index in its own order or in the exact reverse.
func hasComposite(indexes [][]azcosmos.CompositeIndex, paths []string) bool {
	for _, idx := range indexes {
		if len(idx) != len(paths) {
			continue
		}
		got := make([]string, len(idx))
		orders := map[azcosmos.CompositeIndexOrder]bool{}
		for i, ci := range idx {
			got[i] = ci.Path
			order := azcosmos.CompositeIndexOrder(strings.ToLower(string(ci.Order)))
			if order == "" {
				order = azcosmos.CompositeIndexAscending // the service's default
			}
			orders[order] = true
		}
		if slices.Equal(got, paths) && len(orders) == 1 {
			return true
		}
	}
	return false
}

func ttlText(ttl *int32) string {
	if ttl == nil {
		return "off"
	}
	return fmt.Sprint(*ttl)
}
