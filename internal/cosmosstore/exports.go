package cosmosstore

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"popsell-gdpr/internal/gdpr"
)

// Export records: one partition per brand, found by id (the request), by the indexed token
// digest, or among the live ones the sweep reads.
const (
	qExportByToken = `SELECT c.doc, c._etag FROM c WHERE c.tokenDigest = @digest`
	qLiveExports   = `SELECT c.doc, c._etag FROM c WHERE c.live = true AND c.id > @after ORDER BY c.id`
	qMemberPage    = `SELECT c.doc, c._etag FROM c WHERE c.memberId = @member AND c.id > @after ORDER BY c.id`
)

func exportVersion(e *gdpr.ExportRecord) *string { return &e.Version }

func (s *Store) MemberContactsPage(ctx context.Context, brand gdpr.BrandID, memberID, after string, limit int) ([]gdpr.Contact, error) {
	params := append(afterParam(after), azcosmos.QueryParameter{Name: "@member", Value: memberID})
	return list(ctx, s.contacts, brand, qMemberPage, params, max(limit, 0), nil, contactVersion)
}

func (s *Store) CreateExport(ctx context.Context, e gdpr.ExportRecord) (gdpr.ExportRecord, error) {
	env, err := exportEnvelope(e)
	if err != nil {
		return gdpr.ExportRecord{}, err
	}
	return create(ctx, s.exports, env, exportVersion)
}

func (s *Store) GetExport(ctx context.Context, brand gdpr.BrandID, requestID string) (gdpr.ExportRecord, error) {
	return get(ctx, s.exports, brand, requestID, exportVersion)
}

func (s *Store) ExportByToken(ctx context.Context, brand gdpr.BrandID, digest string) (gdpr.ExportRecord, error) {
	out, err := list(ctx, s.exports, brand, qExportByToken, []azcosmos.QueryParameter{{Name: "@digest", Value: digest}}, 1, nil, exportVersion)
	if err != nil {
		return gdpr.ExportRecord{}, err
	}
	if len(out) == 0 {
		return gdpr.ExportRecord{}, gdpr.ErrNotFound
	}
	return out[0], nil
}

func (s *Store) UpdateExport(ctx context.Context, e gdpr.ExportRecord) (gdpr.ExportRecord, error) {
	env, err := exportEnvelope(e)
	if err != nil {
		return gdpr.ExportRecord{}, err
	}
	return update(ctx, s.exports, env, e.Version, exportVersion)
}

func (s *Store) LiveExports(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.ExportRecord, error) {
	return list(ctx, s.exports, brand, qLiveExports, afterParam(after), max(limit, 0), nil, exportVersion)
}
