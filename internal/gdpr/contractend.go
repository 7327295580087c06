package gdpr

import "context"

// EndContract ends the brand's contract: no new data is accepted, and every user and contact
// of the brand is erased after the grace period (R-ERASE-7). Ending an ended brand changes
// nothing.
func (s *RetentionService) EndContract(ctx context.Context, brandID BrandID) (Brand, error) {
	return s.endContract(ctx, brandID, func(Brand) bool { return true })
}

// endContract ends the contract if the brand, as read, still meets cond: the decision is
// taken again on every read, and the write is guarded by the version read.
func (s *RetentionService) endContract(ctx context.Context, brandID BrandID, cond func(Brand) bool) (Brand, error) {
	var out Brand
	err := retry(ctx, func() error {
		b, err := s.brand(ctx, brandID)
		if err != nil {
			return err
		}
		if b.Ended() || !cond(b) {
			out = b
			return nil
		}
		now := s.clock.Now()
		b.Status, b.UpdatedAt = BrandEnded, now
		b.ContractEnd = &ContractEnd{RequestedAt: now, DueAt: b.Retention.ErasureGrace.AddTo(now)}
		if _, err := publishErasure(ctx, s.queue, brandJob(b), now); err != nil {
			return err
		}
		out, err = s.brands.PutBrand(ctx, b)
		return err
	})
	if err == nil && out.ContractEnd != nil {
		s.log.InfoContext(ctx, "brand contract ended", "brand", brandID, "dueAt", out.ContractEnd.DueAt)
	}
	return out, err
}

// SubjectBrand is the subject kind of the brand-wide fan-out job of R-ERASE-7.
const SubjectBrand SubjectKind = "brand"

func brandJob(b Brand) ErasureJob {
	return ErasureJob{BrandID: b.ID, SubjectKind: SubjectBrand, SubjectID: string(b.ID), Rule: RuleBrandContractEnd, DueAt: b.ContractEnd.DueAt}
}
