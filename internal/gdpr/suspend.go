package gdpr

import (
	"context"
	"time"
)

// SuspendProgram suspends the brand's program (R-ERASE-8): its data is kept, it takes no new
// data, and once the brand's suspendedProgram duration (at most 6 months) has passed without
// a relaunch the daily sweep ends its contract (R-ERASE-7). Suspending a suspended brand
// keeps the first suspension; an ended brand is refused.
func (s *RetentionService) SuspendProgram(ctx context.Context, brandID BrandID) (Brand, error) {
	var out Brand
	err := retry(ctx, func() error {
		b, err := s.brand(ctx, brandID)
		if err != nil {
			return err
		}
		switch {
		case b.Ended():
			return Errorf(CodeConflict, "the brand's contract has ended")
		case b.Suspended():
			out = b
			return nil
		}
		now := s.clock.Now()
		b.Status, b.UpdatedAt = BrandSuspended, now
		b.Suspension = &Suspension{RequestedAt: now, KeepUntil: b.Retention.SuspendedProgram.AddTo(now)}
		out, err = s.brands.PutBrand(ctx, b)
		return err
	})
	if err == nil {
		s.log.InfoContext(ctx, "brand program suspended", "brand", brandID, "keepUntil", out.Suspension.KeepUntil)
	}
	return out, err
}

// RelaunchProgram makes a suspended program active again and forgets its suspension
// (R-ERASE-8). Relaunching an active brand changes nothing; an ended brand, or one whose
// suspension has outlived its keeping time, is refused: its data is no longer to be kept.
func (s *RetentionService) RelaunchProgram(ctx context.Context, brandID BrandID) (Brand, error) {
	var out Brand
	err := retry(ctx, func() error {
		b, err := s.brand(ctx, brandID)
		if err != nil {
			return err
		}
		switch {
		case b.Ended():
			return Errorf(CodeConflict, "the brand's contract has ended")
		case !b.Suspended():
			out = b
			return nil
		case suspensionOver(b, s.clock.Now()):
			return Errorf(CodeConflict, "the suspension has passed the brand's suspendedProgram duration; the contract ends")
		}
		b.Status, b.Suspension, b.UpdatedAt = BrandActive, nil, s.clock.Now()
		out, err = s.brands.PutBrand(ctx, b)
		return err
	})
	if err == nil {
		s.log.InfoContext(ctx, "brand program relaunched", "brand", brandID)
	}
	return out, err
}

// suspensionOver: the brand is suspended and its data may be kept no longer (R-ERASE-8).
func suspensionOver(b Brand, now time.Time) bool {
	return b.Suspended() && !now.Before(b.Suspension.KeepUntil)
}
