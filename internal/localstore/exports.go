package localstore

import (
	"context"

	"popsell-gdpr/internal/gdpr"
)

func exportVersion(e *gdpr.ExportRecord) *string { return &e.Version }

// live is 1 while an export's file may exist: the sweep reads those only.
func live(e gdpr.ExportRecord) int {
	if e.Status == gdpr.ExportDeleted {
		return 0
	}
	return 1
}

func (s *Store) MemberContactsPage(ctx context.Context, brand gdpr.BrandID, memberID, after string, limit int) ([]gdpr.Contact, error) {
	return list(ctx, s, "member contacts", contactVersion, limit,
		`SELECT version, doc FROM contacts WHERE brand_id = ? AND member_id = ? AND id > ? ORDER BY id LIMIT ?`,
		brand, memberID, after)
}

func (s *Store) CreateExport(ctx context.Context, e gdpr.ExportRecord) (gdpr.ExportRecord, error) {
	doc, err := encode(e)
	if err != nil {
		return gdpr.ExportRecord{}, fail("create export", err)
	}
	e.Version = formatVersion(1)
	return result(e, s.insert(ctx, "export",
		`INSERT INTO exports (brand_id, request_id, token_digest, live, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.BrandID, e.RequestID, e.TokenDigest, live(e), doc))
}

func (s *Store) GetExport(ctx context.Context, brand gdpr.BrandID, requestID string) (gdpr.ExportRecord, error) {
	return one(ctx, s.r, "export", exportVersion,
		`SELECT version, doc FROM exports WHERE brand_id = ? AND request_id = ?`, brand, requestID)
}

func (s *Store) ExportByToken(ctx context.Context, brand gdpr.BrandID, digest string) (gdpr.ExportRecord, error) {
	return one(ctx, s.r, "export", exportVersion,
		`SELECT version, doc FROM exports WHERE brand_id = ? AND token_digest = ?`, brand, digest)
}

func (s *Store) UpdateExport(ctx context.Context, e gdpr.ExportRecord) (gdpr.ExportRecord, error) {
	doc, err := encode(e)
	if err != nil {
		return gdpr.ExportRecord{}, fail("update export", err)
	}
	e.Version, err = s.update(ctx, "export",
		`UPDATE exports SET version = ?, token_digest = ?, live = ?, doc = ?
		 WHERE brand_id = ? AND request_id = ? AND version = ?`,
		`SELECT 1 FROM exports WHERE brand_id = ? AND request_id = ?`,
		e.Version, []any{e.TokenDigest, live(e), doc}, e.BrandID, e.RequestID)
	return result(e, err)
}

func (s *Store) LiveExports(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.ExportRecord, error) {
	return list(ctx, s, "live exports", exportVersion, limit,
		`SELECT version, doc FROM exports WHERE brand_id = ? AND live = 1 AND request_id > ? ORDER BY request_id LIMIT ?`,
		brand, after)
}
