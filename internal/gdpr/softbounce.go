package gdpr

import (
	"context"
	"errors"
	"slices"
	"time"
)

// streakEvent is one event of an address that the soft-bounce policy counts: a soft bounce,
// or a delivery (Mailjet's "sent": the receiving server took the mail).
type streakEvent struct {
	id        string
	at        time.Time
	delivered bool
}

// record applies events, in time order, to the streak: a delivery after counted bounces
// clears them; a soft bounce after the last clearing joins the row once (by event id), and
// only the latest limit are kept. It reports whether the streak changed, and the id of the
// latest delivery that cleared bounces, if one did. A delivery with no bounce before it
// changes nothing: most mail is delivered, and it costs no write.
func (st SoftBounceStreak) record(limit int, events []streakEvent) (_ SoftBounceStreak, changed bool, clearedBy string) {
	slices.SortStableFunc(events, func(a, b streakEvent) int { return a.at.Compare(b.at) })
	st.Bounces = slices.Clone(st.Bounces)
	for _, e := range events {
		if !e.at.After(st.ClearedAt) {
			continue // before the last delivery or release: not in the row
		}
		if e.delivered {
			if len(st.Bounces) == 0 || st.Bounces[0].At.After(e.at) {
				continue
			}
			st.ClearedAt = e.at
			st.Bounces = slices.DeleteFunc(st.Bounces, func(b CountedBounce) bool { return !b.At.After(e.at) })
			changed, clearedBy = true, e.id
			continue
		}
		if e.id == "" || slices.ContainsFunc(st.Bounces, func(b CountedBounce) bool { return b.ID == e.id }) {
			continue
		}
		i, _ := slices.BinarySearchFunc(st.Bounces, e.at, func(b CountedBounce, t time.Time) int { return b.At.Compare(t) })
		st.Bounces = slices.Insert(st.Bounces, i, CountedBounce{ID: e.id, At: e.at})
		if len(st.Bounces) > limit {
			st.Bounces = st.Bounces[len(st.Bounces)-limit:]
		}
		changed = true
	}
	return st, changed, clearedBy
}

// Suppresses reports a streak that reached the policy: Limit soft bounces in a row, the first
// and the last within Window.
func (st SoftBounceStreak) Suppresses(p SoftBouncePolicy) bool {
	n := len(st.Bounces)
	return p.On() && n >= p.Limit && !st.Bounces[n-1].At.After(p.Window.AddTo(st.Bounces[n-p.Limit].At))
}

// addressStreak is one address's events of a batch, and the forms its digest may be stored
// in (Hasher.Candidates, newest first: one with a single key version), so that a streak or
// a suppression made under an older key version is found across a rotation.
type addressStreak struct {
	forms  []string
	events []streakEvent
}

func (a *addressStreak) add(e streakEvent) { a.events = append(a.events, e) }

// streakOf is the batch's entry of email in byDigest, keyed by its newest digest.
func (s *MailEventService) streakOf(byDigest map[string]*addressStreak, email string) *addressStreak {
	forms := s.hasher.EmailCandidates(email)
	a := byDigest[forms[0]]
	if a == nil {
		a = &addressStreak{forms: forms}
		byDigest[forms[0]] = a
	}
	return a
}

// applySoftBouncePolicy counts the batch's soft bounces and deliveries per address under the
// brand's policy: an address that reaches it is suppressed (a blacklist entry, reason
// soft_bounce, which stops every mail as any entry does), and a delivery lifts that
// suppression, recorded. It returns how many addresses it suppressed. Each address is read,
// decided and written under its streak's version; a conflict decides again. A streak stored
// under an older key version goes on under it (the re-keying moves it); a new one, and a
// suppression, are made under the newest.
func (s *MailEventService) applySoftBouncePolicy(ctx context.Context, b Brand, byDigest map[string]*addressStreak) (int, error) {
	p := b.Mail.SoftBounces
	digests := make([]string, 0, len(byDigest))
	for d := range byDigest {
		digests = append(digests, d)
	}
	slices.Sort(digests)
	suppressed := 0
	for _, digest := range digests {
		address := byDigest[digest]
		var (
			now       SoftBounceStreak
			clearedBy string
		)
		err := retry(ctx, func() error {
			st, err := firstFound(address.forms, func(d string) (SoftBounceStreak, error) { return s.softBounces.GetSoftBounces(ctx, b.ID, d) })
			if errors.Is(err, ErrNotFound) {
				st, err = SoftBounceStreak{BrandID: b.ID, Digest: digest}, nil
			}
			if err != nil {
				return err
			}
			next, changed, by := st.record(p.Limit, slices.Clone(address.events))
			if changed {
				if next, err = s.softBounces.PutSoftBounces(ctx, next); err != nil {
					return err
				}
			}
			now, clearedBy = next, by
			return nil
		})
		if err != nil {
			return suppressed, err
		}
		if now.Suppresses(p) {
			last := now.Bounces[len(now.Bounces)-1]
			if err := s.blacklist.PutBlacklist(ctx, BlacklistEntry{BrandID: b.ID, Digest: digest, Reason: BlacklistSoftBounce, Source: last.ID, CreatedAt: last.At}); err != nil {
				return suppressed, err
			}
			suppressed++
			s.log.InfoContext(ctx, "soft-bounce policy suppressed an address", "brand", b.ID, "event", last.ID, "bounces", len(now.Bounces))
			continue
		}
		if clearedBy != "" {
			if err := liftSoftBounce(ctx, &s.core, s.listed, s.remover, b.ID, address.forms, RemovalByDelivery, RemovalDelivered, clearedBy); err != nil {
				return suppressed, err
			}
		}
	}
	return suppressed, nil
}

// liftSoftBounce ends a soft-bounce suppression of the address under each form it is listed
// in (digests: Hasher.Candidates), recorded with its basis and who or what lifted it (an
// event id, a member id). An entry of any other reason stays: only its own ways lift it. A
// conflict re-reads and decides again.
func liftSoftBounce(ctx context.Context, c *core, bl Blacklist, remover BlacklistRemover, brand BrandID, digests []string, basis RemovalBasis, why RemovalWhy, by string) error {
	for _, digest := range digests {
		err := retry(ctx, func() error {
			e, err := bl.GetBlacklist(ctx, brand, digest)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil || e.Reason != BlacklistSoftBounce {
				return err
			}
			r := removalRecord(e, basis, why, by, c.clock.Now())
			if err := remover.RemoveBlacklist(ctx, e, r); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			c.log.InfoContext(ctx, "soft-bounce suppression lifted", "brand", brand, "removal", r.ID, "basis", string(basis), "by", by)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// clearSoftBounces starts an address's streak again at now, after a release, under each form
// it is stored in (digests: Hasher.Candidates): the bounces counted so far, and any replay of
// them, no longer count.
func clearSoftBounces(ctx context.Context, streaks SoftBounceStore, brand BrandID, digests []string, now time.Time) error {
	for _, digest := range digests {
		err := retry(ctx, func() error {
			st, err := streaks.GetSoftBounces(ctx, brand, digest)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil || (len(st.Bounces) == 0 && !now.After(st.ClearedAt)) {
				return err
			}
			st.Bounces, st.ClearedAt = nil, latest(st.ClearedAt, now)
			_, err = streaks.PutSoftBounces(ctx, st)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// releaseAddress is what a member's release of a soft bounce does to the address beside its
// status (R-MAIL-2): the soft-bounce suppression lifted, recorded, and the streak started
// again, under every form of its digest.
func releaseAddress(ctx context.Context, c *core, bl Blacklist, remover BlacklistRemover, streaks SoftBounceStore, brand BrandID, email, member string) error {
	if email == "" {
		return nil
	}
	forms := c.hasher.EmailCandidates(email)
	if err := clearSoftBounces(ctx, streaks, brand, forms, c.clock.Now()); err != nil {
		return err
	}
	return liftSoftBounce(ctx, c, bl, remover, brand, forms, RemovalByRelease, RemovalReleased, member)
}
