package cosmosstore

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"popsell-gdpr/internal/gdpr"
)

// The register's queries, each within one brand's partition, ordered by the id (always
// indexed; ids sort by receipt).
const (
	qRequests       = `SELECT c.doc, c._etag FROM c WHERE c.id > @after AND c.id < @before ORDER BY c.id`
	qRequestsOfKind = `SELECT c.doc, c._etag FROM c WHERE c.kind = @kind AND c.id > @after AND c.id < @before ORDER BY c.id`
	qRequestsOf     = `SELECT c.doc, c._etag FROM c WHERE c.subjectId = @subject ORDER BY c.id`
)

func requestVersion(r *gdpr.Request) *string { return &r.Version }

func (s *Store) CreateRequest(ctx context.Context, r gdpr.Request) (gdpr.Request, error) {
	env, err := requestEnvelope(r)
	if err != nil {
		return gdpr.Request{}, err
	}
	return create(ctx, s.requests, env, requestVersion)
}

func (s *Store) GetRequest(ctx context.Context, brand gdpr.BrandID, id string) (gdpr.Request, error) {
	return get(ctx, s.requests, brand, id, requestVersion)
}

func (s *Store) UpdateRequest(ctx context.Context, r gdpr.Request) (gdpr.Request, error) {
	env, err := requestEnvelope(r)
	if err != nil {
		return gdpr.Request{}, err
	}
	return update(ctx, s.requests, env, r.Version, requestVersion)
}

// ListRequests is one query in the brand's partition; an empty Before is no upper bound
// ("~" sorts after every id).
func (s *Store) ListRequests(ctx context.Context, brand gdpr.BrandID, f gdpr.RequestFilter) ([]gdpr.Request, error) {
	before := f.Before
	if before == "" {
		before = "~"
	}
	q, params := qRequests, []azcosmos.QueryParameter{{Name: "@after", Value: f.After}, {Name: "@before", Value: before}}
	if f.Kind != "" {
		q, params = qRequestsOfKind, append(params, azcosmos.QueryParameter{Name: "@kind", Value: string(f.Kind)})
	}
	return list(ctx, s.requests, brand, q, params, max(f.Limit, 0), nil, requestVersion)
}

func (s *Store) RequestsOfSubject(ctx context.Context, brand gdpr.BrandID, subjectID string, limit int) ([]gdpr.Request, error) {
	if subjectID == "" || limit <= 0 {
		return []gdpr.Request{}, nil
	}
	params := []azcosmos.QueryParameter{{Name: "@subject", Value: subjectID}}
	return list(ctx, s.requests, brand, qRequestsOf, params, limit, nil, requestVersion)
}
