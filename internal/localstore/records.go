package localstore

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"popsell-gdpr/internal/gdpr"
)

// Claim takes a free or expired key in one upsert; the transaction makes the holder it reads
// after a refusal the one that refused it.
func (s *Store) Claim(ctx context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	doc, err := encode(c)
	if err != nil {
		return gdpr.Claim{}, fail("claim", err)
	}
	var got gdpr.Claim
	err = s.inTx(ctx, func(tx conn) error {
		var version int64
		won, err := scan(ctx, tx, `
			INSERT INTO claims (brand_id, key, owner, expires_at, doc) VALUES (?1, ?2, ?3, ?4, ?5)
			ON CONFLICT (brand_id, key) DO UPDATE
				SET version = version + 1, owner = excluded.owner, expires_at = excluded.expires_at, doc = excluded.doc
				WHERE claims.expires_at <= ?6
			RETURNING version`,
			[]any{c.BrandID, c.Key, c.Owner, nanos(c.ExpiresAt), doc, nanos(c.CreatedAt)}, &version)
		if err != nil {
			return fail("claim", err)
		}
		if won {
			got = c
			got.Version = formatVersion(version)
			return nil
		}
		got, err = one(ctx, tx, "claim", claimVersion,
			`SELECT version, doc FROM claims WHERE brand_id = ? AND key = ?`, c.BrandID, c.Key)
		if err != nil {
			return err
		}
		return conflict("the key is claimed")
	})
	if err != nil && !errors.Is(err, gdpr.ErrConflict) {
		return gdpr.Claim{}, err
	}
	return got, err
}

func (s *Store) GetClaim(ctx context.Context, brand gdpr.BrandID, key string) (gdpr.Claim, error) {
	return one(ctx, s.r, "claim", claimVersion,
		`SELECT version, doc FROM claims WHERE brand_id = ? AND key = ?`, brand, key)
}

func (s *Store) ReplaceClaim(ctx context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	want, err := strconv.ParseInt(c.Version, 10, 64)
	if err != nil {
		return gdpr.Claim{}, conflict("a claim is replaced at the version read")
	}
	doc, err := encode(c)
	if err != nil {
		return gdpr.Claim{}, fail("replace claim", err)
	}
	var got gdpr.Claim
	err = s.inTx(ctx, func(tx conn) error {
		var version int64
		won, err := scan(ctx, tx, `
			UPDATE claims SET version = version + 1, owner = ?1, expires_at = ?2, doc = ?3
			WHERE brand_id = ?4 AND key = ?5 AND version = ?6
			RETURNING version`,
			[]any{c.Owner, nanos(c.ExpiresAt), doc, c.BrandID, c.Key, want}, &version)
		if err != nil {
			return fail("replace claim", err)
		}
		if won {
			got = c
			got.Version = formatVersion(version)
			return nil
		}
		var one int
		if held, err := scan(ctx, tx, `SELECT 1 FROM claims WHERE brand_id = ? AND key = ?`, []any{c.BrandID, c.Key}, &one); err != nil {
			return fail("replace claim", err)
		} else if !held {
			return notFound("claim")
		}
		return conflict("the claim changed since it was read")
	})
	return got, err
}

func (s *Store) ReleaseClaims(ctx context.Context, brand gdpr.BrandID, claims ...gdpr.Claim) error {
	if len(claims) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx conn) error {
		for _, c := range claims {
			if _, err := exec(ctx, tx, `DELETE FROM claims WHERE brand_id = ? AND key = ? AND owner = ?`,
				brand, c.Key, c.Owner); err != nil {
				return fail("release claims", err)
			}
		}
		return nil
	})
}

func blacklistVersion(e *gdpr.BlacklistEntry) *string { return &e.Version }

// PutBlacklist inserts each entry, or merges it into the stored one (gdpr.BlacklistEntry.Merge)
// in the same transaction, writing only what the merge changes.
func (s *Store) PutBlacklist(ctx context.Context, entries ...gdpr.BlacklistEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx conn) error {
		for _, e := range entries {
			if err := putBlacklistEntry(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// putBlacklistEntry inserts e, or merges it into the entry stored under its digest
// (gdpr.BlacklistEntry.Merge), writing only when the merge changes it.
func putBlacklistEntry(ctx context.Context, tx conn, e gdpr.BlacklistEntry) error {
	doc, err := encode(e)
	if err != nil {
		return fail("put blacklist", err)
	}
	res, err := exec(ctx, tx, `INSERT INTO blacklist (brand_id, digest, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		e.BrandID, e.Digest, doc)
	if err != nil {
		return fail("put blacklist", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		if err != nil {
			return fail("put blacklist", err)
		}
		return nil
	}
	stored, err := one(ctx, tx, "blacklist entry", blacklistVersion,
		`SELECT version, doc FROM blacklist WHERE brand_id = ? AND digest = ?`, e.BrandID, e.Digest)
	if err != nil {
		return err
	}
	merged, changed := stored.Merge(e)
	if !changed {
		return nil
	}
	if doc, err = encode(merged); err != nil {
		return fail("put blacklist", err)
	}
	if _, err := exec(ctx, tx, `UPDATE blacklist SET version = version + 1, doc = ? WHERE brand_id = ? AND digest = ?`,
		doc, e.BrandID, e.Digest); err != nil {
		return fail("put blacklist", err)
	}
	return nil
}

func (s *Store) GetBlacklist(ctx context.Context, brand gdpr.BrandID, digest string) (gdpr.BlacklistEntry, error) {
	return one(ctx, s.r, "blacklist entry", blacklistVersion,
		`SELECT version, doc FROM blacklist WHERE brand_id = ? AND digest = ?`, brand, digest)
}

// RemoveBlacklist deletes the entry at the version read and keeps its record in one
// transaction: the removal and its record land together or not at all.
func (s *Store) RemoveBlacklist(ctx context.Context, e gdpr.BlacklistEntry, r gdpr.BlacklistRemoval) error {
	want, err := strconv.ParseInt(e.Version, 10, 64)
	if err != nil {
		return conflict("a blacklist entry is removed at the version read")
	}
	if r.BrandID != e.BrandID {
		return gdpr.Errorf(gdpr.CodeInvalid, "a removal record of another brand") // R-TEN-1
	}
	doc, err := encode(r)
	if err != nil {
		return fail("remove blacklist", err)
	}
	return s.inTx(ctx, func(tx conn) error {
		res, err := exec(ctx, tx, `DELETE FROM blacklist WHERE brand_id = ? AND digest = ? AND version = ?`, e.BrandID, e.Digest, want)
		if err != nil {
			return fail("remove blacklist", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fail("remove blacklist", err)
		} else if n == 0 {
			var one int
			if held, err := scan(ctx, tx, `SELECT 1 FROM blacklist WHERE brand_id = ? AND digest = ?`, []any{e.BrandID, e.Digest}, &one); err != nil {
				return fail("remove blacklist", err)
			} else if !held {
				return notFound("blacklist entry")
			}
			return conflict("the blacklist entry changed since it was read")
		}
		if _, err := exec(ctx, tx, `INSERT INTO blacklist_removals (brand_id, id, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			r.BrandID, r.ID, doc); err != nil {
			return fail("remove blacklist", err)
		}
		return nil
	})
}

func (s *Store) ListBlacklistRemovals(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.BlacklistRemoval, error) {
	return list[gdpr.BlacklistRemoval](ctx, s, "blacklist removals", nil, limit,
		`SELECT version, doc FROM blacklist_removals WHERE brand_id = ? AND id > ? ORDER BY id LIMIT ?`, brand, after)
}

func softBounceVersion(st *gdpr.SoftBounceStreak) *string { return &st.Version }

func (s *Store) GetSoftBounces(ctx context.Context, brand gdpr.BrandID, digest string) (gdpr.SoftBounceStreak, error) {
	return one(ctx, s.r, "soft-bounce streak", softBounceVersion,
		`SELECT version, doc FROM soft_bounces WHERE brand_id = ? AND digest = ?`, brand, digest)
}

// PutSoftBounces creates a streak (no version) or replaces it at the version read, in one
// statement either way.
func (s *Store) PutSoftBounces(ctx context.Context, st gdpr.SoftBounceStreak) (gdpr.SoftBounceStreak, error) {
	doc, err := encode(st)
	if err != nil {
		return gdpr.SoftBounceStreak{}, fail("put soft bounces", err)
	}
	var want int64
	if st.Version != "" {
		if want, err = strconv.ParseInt(st.Version, 10, 64); err != nil {
			return gdpr.SoftBounceStreak{}, conflict("a streak is replaced at the version read")
		}
	}
	out := st
	err = s.inTx(ctx, func(tx conn) error {
		var version int64
		var won bool
		var err error
		if st.Version == "" {
			won, err = scan(ctx, tx, `INSERT INTO soft_bounces (brand_id, digest, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING version`,
				[]any{st.BrandID, st.Digest, doc}, &version)
		} else {
			won, err = scan(ctx, tx, `UPDATE soft_bounces SET version = version + 1, doc = ? WHERE brand_id = ? AND digest = ? AND version = ? RETURNING version`,
				[]any{doc, st.BrandID, st.Digest, want}, &version)
		}
		if err != nil {
			return fail("put soft bounces", err)
		}
		if won {
			out.Version = formatVersion(version)
			return nil
		}
		var one int
		if held, err := scan(ctx, tx, `SELECT 1 FROM soft_bounces WHERE brand_id = ? AND digest = ?`, []any{st.BrandID, st.Digest}, &one); err != nil {
			return fail("put soft bounces", err)
		} else if !held && st.Version != "" {
			return notFound("soft-bounce streak")
		}
		return conflict("the soft-bounce streak changed since it was read")
	})
	if err != nil {
		return gdpr.SoftBounceStreak{}, err
	}
	return out, nil
}

func (s *Store) AddWhitelist(ctx context.Context, entries ...gdpr.WhitelistEntry) error {
	return putAll(ctx, s, "whitelist", entries,
		`INSERT INTO whitelist (brand_id, kind, digest, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		func(e gdpr.WhitelistEntry) []any { return []any{e.BrandID, e.Kind, e.Digest} })
}

func (s *Store) IsWhitelisted(ctx context.Context, brand gdpr.BrandID, kind gdpr.WhitelistKind, digest string) (bool, error) {
	var one int
	ok, err := scan(ctx, s.r, `SELECT 1 FROM whitelist WHERE brand_id = ? AND kind = ? AND digest = ?`,
		[]any{brand, kind, digest}, &one)
	if err != nil {
		return false, fail("whitelist", err)
	}
	return ok, nil
}

// putAll inserts entries in one transaction, keeping any that exist; key gives the columns
// before doc.
func putAll[T any](ctx context.Context, s *Store, what string, entries []T, query string, key func(T) []any) error {
	if len(entries) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx conn) error {
		for _, e := range entries {
			doc, err := encode(e)
			if err != nil {
				return fail("put "+what, err)
			}
			if _, err := exec(ctx, tx, query, append(key(e), doc)...); err != nil {
				return fail("put "+what, err)
			}
		}
		return nil
	})
}

func (s *Store) PutErasures(ctx context.Context, brand gdpr.BrandID, records []gdpr.ErasureRecord) ([]gdpr.ErasureRecord, error) {
	docs := make([]string, len(records))
	for i, r := range records {
		if r.BrandID != brand {
			return nil, gdpr.Errorf(gdpr.CodeInvalid, "an erasure record of another brand in a batch") // R-TEN-1
		}
		var err error
		if docs[i], err = encode(r); err != nil {
			return nil, fail("put erasures", err)
		}
	}
	out := slices.Clone(records)
	err := s.inTx(ctx, func(tx conn) error {
		for i, r := range records {
			res, err := exec(ctx, tx, `INSERT INTO erasures (brand_id, id, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				brand, r.ID, docs[i])
			if err != nil {
				return fail("put erasures", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				if err != nil {
					return fail("put erasures", err)
				}
				continue
			}
			// Recorded by an earlier run: the first record stands.
			if out[i], err = one[gdpr.ErasureRecord](ctx, tx, "erasure", nil,
				`SELECT version, doc FROM erasures WHERE brand_id = ? AND id = ?`, brand, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return result(out, err)
}

func (s *Store) ListErasures(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.ErasureRecord, error) {
	return list[gdpr.ErasureRecord](ctx, s, "erasures", nil, limit,
		`SELECT version, doc FROM erasures WHERE brand_id = ? AND id > ? ORDER BY id LIMIT ?`, brand, after)
}

func (s *Store) FindErasures(ctx context.Context, brand gdpr.BrandID, ids []string) ([]string, error) {
	found := []string{}
	if len(ids) == 0 {
		return found, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fail("find erasures", err)
	}
	rs, err := all[gdpr.ErasureRecord](ctx, s.r, nil,
		`SELECT version, doc FROM erasures WHERE brand_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id`, brand, list)
	if err != nil {
		return nil, fail("find erasures", err)
	}
	for _, r := range rs {
		found = append(found, r.ID)
	}
	return found, nil
}

// ---- digests (the hash-key rotation) ----

func (s *Store) ListClaims(ctx context.Context, brand gdpr.BrandID, afterKey string, limit int) ([]gdpr.Claim, error) {
	return list(ctx, s, "claims", claimVersion,
		limit, `SELECT version, doc FROM claims WHERE brand_id = ? AND key > ? ORDER BY key LIMIT ?`, brand, afterKey)
}

func (s *Store) ListBlacklist(ctx context.Context, brand gdpr.BrandID, afterDigest string, limit int) ([]gdpr.BlacklistEntry, error) {
	return list[gdpr.BlacklistEntry](ctx, s, "blacklist", nil,
		limit, `SELECT version, doc FROM blacklist WHERE brand_id = ? AND digest > ? ORDER BY digest LIMIT ?`, brand, afterDigest)
}

// RekeyBlacklist writes both in one transaction; an entry already under the new digest (a
// later event's) is merged with the moved one, as PutBlacklist merges.
func (s *Store) RekeyBlacklist(ctx context.Context, from string, e gdpr.BlacklistEntry) error {
	return s.inTx(ctx, func(tx conn) error {
		if err := putBlacklistEntry(ctx, tx, e); err != nil {
			return err
		}
		if from == e.Digest {
			return nil
		}
		if _, err := exec(ctx, tx, `DELETE FROM blacklist WHERE brand_id = ? AND digest = ?`, e.BrandID, from); err != nil {
			return fail("rekey blacklist", err)
		}
		return nil
	})
}

func (s *Store) ListSoftBounces(ctx context.Context, brand gdpr.BrandID, afterDigest string, limit int) ([]gdpr.SoftBounceStreak, error) {
	return list(ctx, s, "soft-bounce streaks", softBounceVersion,
		limit, `SELECT version, doc FROM soft_bounces WHERE brand_id = ? AND digest > ? ORDER BY digest LIMIT ?`, brand, afterDigest)
}

// RekeySoftBounces writes both in one transaction.
func (s *Store) RekeySoftBounces(ctx context.Context, from string, st gdpr.SoftBounceStreak) error {
	st.Version = ""
	doc, err := encode(st)
	if err != nil {
		return fail("rekey soft bounces", err)
	}
	return s.inTx(ctx, func(tx conn) error {
		if _, err := exec(ctx, tx, `INSERT INTO soft_bounces (brand_id, digest, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			st.BrandID, st.Digest, doc); err != nil {
			return fail("rekey soft bounces", err)
		}
		if from == st.Digest {
			return nil
		}
		if _, err := exec(ctx, tx, `DELETE FROM soft_bounces WHERE brand_id = ? AND digest = ?`, st.BrandID, from); err != nil {
			return fail("rekey soft bounces", err)
		}
		return nil
	})
}

func (s *Store) ListWhitelist(ctx context.Context, brand gdpr.BrandID, after gdpr.WhitelistEntry, limit int) ([]gdpr.WhitelistEntry, error) {
	return list[gdpr.WhitelistEntry](ctx, s, "whitelist", nil, limit,
		`SELECT version, doc FROM whitelist WHERE brand_id = ? AND (kind, digest) > (?, ?) ORDER BY kind, digest LIMIT ?`,
		brand, after.Kind, after.Digest)
}

// RekeyWhitelist writes both in one transaction.
func (s *Store) RekeyWhitelist(ctx context.Context, from string, e gdpr.WhitelistEntry) error {
	doc, err := encode(e)
	if err != nil {
		return fail("rekey whitelist", err)
	}
	return s.inTx(ctx, func(tx conn) error {
		if _, err := exec(ctx, tx, `INSERT INTO whitelist (brand_id, kind, digest, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			e.BrandID, e.Kind, e.Digest, doc); err != nil {
			return fail("rekey whitelist", err)
		}
		if from == e.Digest {
			return nil
		}
		if _, err := exec(ctx, tx, `DELETE FROM whitelist WHERE brand_id = ? AND kind = ? AND digest = ?`, e.BrandID, e.Kind, from); err != nil {
			return fail("rekey whitelist", err)
		}
		return nil
	})
}
