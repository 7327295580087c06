package gdpr

import "context"

// ListErasures pages through a brand's audit trail, ended brands included (R-ERASE-9).
func (s *ErasureService) ListErasures(ctx context.Context, brandID BrandID, after string, limit int) ([]ErasureRecord, error) {
	if _, err := s.brand(ctx, brandID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return s.audit.ListErasures(ctx, brandID, after, limit)
}
