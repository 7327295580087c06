package localstore

import (
	"context"

	"popsell-gdpr/internal/gdpr"
)

func requestVersion(r *gdpr.Request) *string { return &r.Version }

func (s *Store) CreateRequest(ctx context.Context, r gdpr.Request) (gdpr.Request, error) {
	doc, err := encode(r)
	if err != nil {
		return gdpr.Request{}, fail("create request", err)
	}
	r.Version = formatVersion(1)
	return result(r, s.insert(ctx, "request",
		`INSERT INTO requests (brand_id, id, kind, subject_id, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		r.BrandID, r.ID, r.Kind, r.SubjectID, doc))
}

func (s *Store) GetRequest(ctx context.Context, brand gdpr.BrandID, id string) (gdpr.Request, error) {
	return one(ctx, s.r, "request", requestVersion,
		`SELECT version, doc FROM requests WHERE brand_id = ? AND id = ?`, brand, id)
}

// UpdateRequest replaces the document only; a request's kind and subject never change.
func (s *Store) UpdateRequest(ctx context.Context, r gdpr.Request) (gdpr.Request, error) {
	doc, err := encode(r)
	if err != nil {
		return gdpr.Request{}, fail("update request", err)
	}
	r.Version, err = s.update(ctx, "request",
		`UPDATE requests SET version = ?, doc = ? WHERE brand_id = ? AND id = ? AND version = ?`,
		`SELECT 1 FROM requests WHERE brand_id = ? AND id = ?`,
		r.Version, []any{doc}, r.BrandID, r.ID)
	return result(r, err)
}

// ListRequests reads a range of ids, through the primary key or, for one kind, the
// (brand_id, kind, id) index. An empty Before is no upper bound: every id sorts below "~".
func (s *Store) ListRequests(ctx context.Context, brand gdpr.BrandID, f gdpr.RequestFilter) ([]gdpr.Request, error) {
	before := f.Before
	if before == "" {
		before = "~"
	}
	if f.Kind == "" {
		return list(ctx, s, "requests", requestVersion, f.Limit,
			`SELECT version, doc FROM requests WHERE brand_id = ? AND id > ? AND id < ? ORDER BY id LIMIT ?`,
			brand, f.After, before)
	}
	return list(ctx, s, "requests", requestVersion, f.Limit,
		`SELECT version, doc FROM requests WHERE brand_id = ? AND kind = ? AND id > ? AND id < ? ORDER BY id LIMIT ?`,
		brand, f.Kind, f.After, before)
}

func (s *Store) RequestsOfSubject(ctx context.Context, brand gdpr.BrandID, subjectID string, limit int) ([]gdpr.Request, error) {
	if subjectID == "" {
		return nil, nil
	}
	return list(ctx, s, "requests", requestVersion, limit,
		`SELECT version, doc FROM requests WHERE brand_id = ? AND subject_id = ? AND subject_id != '' ORDER BY id LIMIT ?`,
		brand, subjectID)
}
