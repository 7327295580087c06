package cosmosstore

import "github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

// Container names. The Bicep templates (infra/) create the same containers; a test there and
// TestContainersSpec here keep both in step with Containers.
const (
	ContainerBrands    = "brands"
	ContainerUsers     = "users"
	ContainerContacts  = "contacts"
	ContainerClaims    = "claims"
	ContainerBlacklist = "blacklist"
	ContainerWhitelist = "whitelist"
	ContainerTokens    = "tokens"
	ContainerErasures  = "erasures"
	ContainerRequests  = "requests"
	ContainerExports   = "exports"
	// ContainerBlacklistRemovals keeps the audit records of blacklist entries removed.
	ContainerBlacklistRemovals = "blacklistRemovals"
	// ContainerSoftBounces keeps the soft-bounce streaks of addresses, by digest.
	ContainerSoftBounces = "softBounces"
)

// PartitionKeyPath is the partition key of every container: all data is partitioned by brand
// (R-TEN-1). The brands container stores each brand under its own id.
const PartitionKeyPath = "/brandId"

// ContainerSpec defines one container: the single source of truth for EnsureSchema, the Bicep
// templates and the tests.
type ContainerSpec struct {
	Name string
	// PartitionKey is the partition key path, always PartitionKeyPath.
	PartitionKey string
	// IndexedPaths are the only paths indexed (range indexes, the Cosmos default kind); every
	// other path is excluded with "/*". The envelope's "doc" — the personal data — is never
	// indexed, which keeps writes cheap and keeps personal data out of the index. The id and
	// _ts system properties are always indexed by Cosmos, so paging by id needs no entry.
	IndexedPaths []string
	// CompositeIndexes are composite indexes, each a list of paths indexed ascending. Cosmos
	// serves an ORDER BY on two or more properties only from a matching composite index (the
	// emulator does not check).
	CompositeIndexes [][]string
	// ItemTTL turns time-to-live on with defaultTtl -1: nothing expires by default, items
	// carrying a "ttl" field expire that many seconds after their last write.
	ItemTTL bool
}

// Containers lists every container the store uses.
var Containers = []ContainerSpec{
	{Name: ContainerBrands, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?"}},
	{Name: ContainerUsers, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?", "/nextReviewAt/?", "/idpKey/?"},
		CompositeIndexes: [][]string{dueOrder}},
	{Name: ContainerContacts, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?", "/nextReviewAt/?", "/memberId/?"},
		CompositeIndexes: [][]string{dueOrder}},
	{Name: ContainerClaims, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?"}, ItemTTL: true},
	{Name: ContainerBlacklist, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?"}},
	{Name: ContainerWhitelist, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?"}},
	{Name: ContainerTokens, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?"}, ItemTTL: true},
	{Name: ContainerErasures, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?"}},
	// The register pages by id (always indexed), filtered by kind or subject.
	{Name: ContainerRequests, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?", "/kind/?", "/subjectId/?"}},
	{Name: ContainerExports, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?", "/tokenDigest/?", "/live/?"}},
	{Name: ContainerBlacklistRemovals, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?"}},
	{Name: ContainerSoftBounces, PartitionKey: PartitionKeyPath, IndexedPaths: []string{"/brandId/?"}},
}

// dueOrder is the composite index of the due queries (qDue, qDueAfter): ORDER BY
// c.nextReviewAt, c.id.
var dueOrder = []string{"/nextReviewAt", "/id"}

// DefaultTTL is the container's defaultTtl in seconds, and whether it is set at all (unset:
// TTL is off and item "ttl" fields are ignored).
func (c ContainerSpec) DefaultTTL() (int32, bool) {
	if c.ItemTTL {
		return -1, true
	}
	return 0, false
}

// Properties is the container definition as azcosmos creates it.
func (c ContainerSpec) Properties() azcosmos.ContainerProperties {
	included := make([]azcosmos.IncludedPath, len(c.IndexedPaths))
	for i, p := range c.IndexedPaths {
		included[i] = azcosmos.IncludedPath{Path: p}
	}
	props := azcosmos.ContainerProperties{
		ID: c.Name,
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{
			Kind:    azcosmos.PartitionKeyKindHash,
			Paths:   []string{c.PartitionKey},
			Version: 2,
		},
		IndexingPolicy: &azcosmos.IndexingPolicy{
			Automatic:     true,
			IndexingMode:  azcosmos.IndexingModeConsistent,
			IncludedPaths: included,
			ExcludedPaths: []azcosmos.ExcludedPath{{Path: "/*"}},
		},
	}
	for _, paths := range c.CompositeIndexes {
		composite := make([]azcosmos.CompositeIndex, len(paths))
		for i, p := range paths {
			composite[i] = azcosmos.CompositeIndex{Path: p, Order: azcosmos.CompositeIndexAscending}
		}
		props.IndexingPolicy.CompositeIndexes = append(props.IndexingPolicy.CompositeIndexes, composite)
	}
	if ttl, ok := c.DefaultTTL(); ok {
		props.DefaultTimeToLive = &ttl
	}
	return props
}

// Spec returns the definition of the named container.
func Spec(name string) (ContainerSpec, bool) {
	for _, c := range Containers {
		if c.Name == name {
			return c, true
		}
	}
	return ContainerSpec{}, false
}
