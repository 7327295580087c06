package cosmosstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"popsell-gdpr/internal/gdpr"
)

// The queries. All are parameterised and run on one partition, except qAll on brands.
const (
	qAll      = `SELECT c.doc, c._etag FROM c`
	qPageByID = `SELECT c.doc, c._etag FROM c WHERE c.id > @after ORDER BY c.id`
	// qErasuresIn reads the audit records among @ids (restore's check).
	qErasuresIn = `SELECT c.doc, c._etag FROM c WHERE ARRAY_CONTAINS(@ids, c.id)`
	qDue        = `SELECT c.doc, c._etag FROM c WHERE c.nextReviewAt <= @now ORDER BY c.nextReviewAt ASC, c.id ASC`
	qDueAfter   = `SELECT c.doc, c._etag FROM c WHERE c.nextReviewAt >= @at AND c.nextReviewAt <= @now` +
		` AND (c.nextReviewAt > @at OR c.id > @id) ORDER BY c.nextReviewAt ASC, c.id ASC`
	qOfMember = `SELECT c.doc, c._etag FROM c WHERE c.memberId = @member ORDER BY c.id`
	qOfIdP    = `SELECT c.doc, c._etag FROM c WHERE c.idpKey = @key`
)

// maxRetries bounds the optimistic loops of Claim and ReleaseClaims.
const maxRetries = 8

func brandVersion(b *gdpr.Brand) *string     { return &b.Version }
func userVersion(u *gdpr.User) *string       { return &u.Version }
func contactVersion(c *gdpr.Contact) *string { return &c.Version }
func claimVersion(c *gdpr.Claim) *string     { return &c.Version }
func tokenVersion(t *gdpr.Token) *string     { return &t.Version }

// ---- brands ----

func (s *Store) PutBrand(ctx context.Context, b gdpr.Brand) (gdpr.Brand, error) {
	env, err := brandEnvelope(b)
	if err != nil {
		return gdpr.Brand{}, err
	}
	if b.Version == "" {
		return create(ctx, s.brands, env, brandVersion)
	}
	return update(ctx, s.brands, env, b.Version, brandVersion)
}

func (s *Store) GetBrand(ctx context.Context, id gdpr.BrandID) (gdpr.Brand, error) {
	return get(ctx, s.brands, id, string(id), brandVersion)
}

var _ gdpr.BrandRevalidation = (*Store)(nil)

// GetBrandIfChanged reads the brand with If-None-Match: Cosmos DB answers 304 without the
// document while version is current, so a cache revalidates without receiving it again.
func (s *Store) GetBrandIfChanged(ctx context.Context, id gdpr.BrandID, version string) (gdpr.Brand, bool, error) {
	if version == "" || !id.Valid() {
		b, err := s.GetBrand(ctx, id)
		return b, err == nil, err
	}
	ctx = policy.WithHTTPHeader(ctx, http.Header{"If-None-Match": []string{version}})
	resp, err := s.brands.ReadItem(ctx, pk(string(id)), string(id), &azcosmos.ItemOptions{SessionToken: s.brands.session.get()})
	if err != nil {
		return gdpr.Brand{}, false, mapErr("read "+s.brands.ID(), err)
	}
	s.brands.session.observe(deref(resp.SessionToken))
	if resp.RawResponse != nil && resp.RawResponse.StatusCode == http.StatusNotModified {
		return gdpr.Brand{}, false, nil
	}
	var st stored
	if err := json.Unmarshal(resp.Value, &st); err != nil {
		return gdpr.Brand{}, false, &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: decode envelope", Err: err}
	}
	if st.ETag == "" {
		st.ETag = string(resp.ETag)
	}
	if st.ETag == version { // a server that ignores If-None-Match sent the same version
		return gdpr.Brand{}, false, nil
	}
	b, err := decode(st, brandVersion)
	return b, err == nil, err
}

// ListBrands is the one cross-partition query: a plain scan the gateway can serve, sorted
// here because the gateway refuses cross-partition ORDER BY.
func (s *Store) ListBrands(ctx context.Context) ([]gdpr.Brand, error) {
	// NewPartitionKey(): no partition key, the one cross-partition query.
	out, err := collect(ctx, s.brands, azcosmos.NewPartitionKey(), qAll, nil, -1, nil, brandVersion)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b gdpr.Brand) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// ---- users ----

func (s *Store) CreateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	env, err := userEnvelope(u)
	if err != nil {
		return gdpr.User{}, err
	}
	return create(ctx, s.users, env, userVersion)
}

func (s *Store) GetUser(ctx context.Context, brand gdpr.BrandID, id string) (gdpr.User, error) {
	return get(ctx, s.users, brand, id, userVersion)
}

// GetUsers reads the users one point read each: a point read is the cheapest read Cosmos DB
// bills (1 RU for a small document), cheaper than a query over the ids.
func (s *Store) GetUsers(ctx context.Context, brand gdpr.BrandID, ids []string) ([]gdpr.User, error) {
	out := make([]gdpr.User, 0, len(ids))
	for _, id := range ids {
		u, err := get(ctx, s.users, brand, id, userVersion)
		if errors.Is(err, gdpr.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (s *Store) UpdateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	env, err := userEnvelope(u)
	if err != nil {
		return gdpr.User{}, err
	}
	return update(ctx, s.users, env, u.Version, userVersion)
}

// UpdateUsers replaces users as UpdateUser does, one transactional batch per chunk of at most
// gdpr.MaxBatch users and maxBatchBytes (see updateMany).
func (s *Store) UpdateUsers(ctx context.Context, brand gdpr.BrandID, users []gdpr.User) ([]gdpr.User, error) {
	return updateMany(ctx, s.users, brand, users, userEnvelope, userVersion)
}

func (s *Store) ListUsers(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.User, error) {
	return list(ctx, s.users, brand, qPageByID, afterParam(after), max(limit, 0), nil, userVersion)
}

func (s *Store) DueUsers(ctx context.Context, brand gdpr.BrandID, now time.Time, after gdpr.DueCursor, limit int) ([]gdpr.User, error) {
	return due(ctx, s.users, brand, now, after, limit, func(u gdpr.User) time.Time { return u.NextReviewAt }, userVersion)
}

// UsersByIdPExternalID is one query on the idpKey index, within the brand's partition: its
// charge grows with the matches, not with the brand. The matches are few, so they are sorted
// here rather than by an ORDER BY.
func (s *Store) UsersByIdPExternalID(ctx context.Context, brand gdpr.BrandID, id string, limit int) ([]gdpr.User, error) {
	if id == "" || limit <= 0 {
		return []gdpr.User{}, nil
	}
	params := []azcosmos.QueryParameter{{Name: "@key", Value: idpKey(brand, id)}}
	out, err := list(ctx, s.users, brand, qOfIdP, params, -1, func(u gdpr.User) bool { return u.IdPExternalID == id }, userVersion)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b gdpr.User) int { return cmp.Compare(a.ID, b.ID) })
	return out[:min(len(out), limit)], nil
}

// ---- contacts ----

func (s *Store) CreateContact(ctx context.Context, c gdpr.Contact) (gdpr.Contact, error) {
	env, err := contactEnvelope(c)
	if err != nil {
		return gdpr.Contact{}, err
	}
	return create(ctx, s.contacts, env, contactVersion)
}

func (s *Store) GetContact(ctx context.Context, brand gdpr.BrandID, id string) (gdpr.Contact, error) {
	return get(ctx, s.contacts, brand, id, contactVersion)
}

func (s *Store) UpdateContact(ctx context.Context, c gdpr.Contact) (gdpr.Contact, error) {
	env, err := contactEnvelope(c)
	if err != nil {
		return gdpr.Contact{}, err
	}
	return update(ctx, s.contacts, env, c.Version, contactVersion)
}

// UpdateContacts replaces contacts as UpdateContact does, one transactional batch per chunk
// of at most gdpr.MaxBatch contacts and maxBatchBytes (see updateMany).
func (s *Store) UpdateContacts(ctx context.Context, brand gdpr.BrandID, contacts []gdpr.Contact) ([]gdpr.Contact, error) {
	return updateMany(ctx, s.contacts, brand, contacts, contactEnvelope, contactVersion)
}

// ContactsOfMembers runs the single-partition query of one member per member, in member id
// order, so its cost follows the contacts read whatever the size of the brand.
func (s *Store) ContactsOfMembers(ctx context.Context, brand gdpr.BrandID, memberIDs []string) ([]gdpr.Contact, error) {
	var out []gdpr.Contact
	for _, id := range slices.Sorted(slices.Values(memberIDs)) {
		params := []azcosmos.QueryParameter{{Name: "@member", Value: id}}
		cs, err := list(ctx, s.contacts, brand, qOfMember, params, -1, nil, contactVersion)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func (s *Store) ListContacts(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.Contact, error) {
	return list(ctx, s.contacts, brand, qPageByID, afterParam(after), max(limit, 0), nil, contactVersion)
}

func (s *Store) DueContacts(ctx context.Context, brand gdpr.BrandID, now time.Time, after gdpr.DueCursor, limit int) ([]gdpr.Contact, error) {
	return due(ctx, s.contacts, brand, now, after, limit, func(c gdpr.Contact) time.Time { return c.NextReviewAt }, contactVersion)
}

// due reads a page of the due index: a single-partition query ordered by the indexed
// (nextReviewAt, id), served by the composite index dueOrder and resumed after the cursor.
// The order is that of the index, floor(µs) then id — the precision the store keeps — and the
// cursor's time is converted the same way (reviewMicros), so a cursor taken from the last
// document of a page resumes exactly after it: documents sharing a microsecond, however many,
// are told apart by id, none skipped or read twice. Documents due later than now within
// now's microsecond pass the query and are dropped here, and the query reads on until limit
// are kept; they sort last, so dropping them leaves the order and the cursor intact. A zero
// cursor time starts at the beginning.
func due[T any](ctx context.Context, c *container, brand gdpr.BrandID, now time.Time,
	after gdpr.DueCursor, limit int, reviewAt func(T) time.Time, ver version[T]) ([]T, error) {
	q, params := qDue, nowParam(now)
	if !after.At.IsZero() {
		q = qDueAfter
		params = append(params,
			azcosmos.QueryParameter{Name: "@at", Value: *reviewMicros(after.At)},
			azcosmos.QueryParameter{Name: "@id", Value: after.ID})
	}
	return list(ctx, c, brand, q, params, max(limit, 0), func(v T) bool { return !reviewAt(v).After(now) }, ver)
}

func afterParam(after string) []azcosmos.QueryParameter {
	return []azcosmos.QueryParameter{{Name: "@after", Value: after}}
}

// nowParam: the index holds floor(µs), so "<= floor(now µs)" selects every due document plus
// possibly some due later within the same microsecond; the caller filters those exactly.
func nowParam(now time.Time) []azcosmos.QueryParameter {
	return []azcosmos.QueryParameter{{Name: "@now", Value: now.UnixMicro()}}
}

// ---- claims ----

// Claim creates the claim document; on 409 it reads the holder and takes the key over with
// If-Match on the holder's _etag if the holder had expired at c.CreatedAt. Any race (the
// holder released, expired by TTL or taken over meanwhile) starts over.
func (s *Store) Claim(ctx context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	env, err := claimEnvelope(c)
	if err != nil {
		return gdpr.Claim{}, err
	}
	for range maxRetries {
		got, err := create(ctx, s.claims, env, claimVersion)
		if !errors.Is(err, gdpr.ErrConflict) {
			return got, err
		}
		holder, err := get(ctx, s.claims, c.BrandID, env.ID, claimVersion)
		if errors.Is(err, gdpr.ErrNotFound) {
			continue
		}
		if err != nil {
			return gdpr.Claim{}, err
		}
		if holder.ExpiresAt.IsZero() || holder.ExpiresAt.After(c.CreatedAt) {
			return holder, conflict("claim is held")
		}
		got, err = update(ctx, s.claims, env, holder.Version, claimVersion)
		if errors.Is(err, gdpr.ErrConflict) || errors.Is(err, gdpr.ErrNotFound) {
			continue
		}
		return got, err
	}
	return gdpr.Claim{}, &gdpr.Error{Code: gdpr.CodeUnavailable, Message: "cosmosstore: claim contended, retry"}
}

func (s *Store) GetClaim(ctx context.Context, brand gdpr.BrandID, key string) (gdpr.Claim, error) {
	return get(ctx, s.claims, brand, keyID(key), claimVersion)
}

var _ gdpr.ClaimBatch = (*Store)(nil)

// ClaimAll creates the claims in one transactional batch on the brand's partition: all, or
// none and CodeConflict when one of their keys is present (a 409 rolls the batch back).
func (s *Store) ClaimAll(ctx context.Context, brand gdpr.BrandID, claims []gdpr.Claim) error {
	key, err := brandKey(brand)
	if err != nil || len(claims) == 0 {
		return err
	}
	batch := s.claims.NewTransactionalBatch(key)
	for _, c := range claims {
		if c.BrandID != brand {
			return gdpr.Errorf(gdpr.CodeInvalid, "cosmosstore: a claim of another brand in a batch")
		}
		env, err := claimEnvelope(c)
		if err != nil {
			return err
		}
		body, err := encodeEnvelope(env)
		if err != nil {
			return err
		}
		batch.CreateItem(body, nil)
	}
	const op = "batch create claims"
	resp, err := s.claims.ExecuteTransactionalBatch(ctx, batch, nil)
	if err != nil {
		return mapErr(op, err)
	}
	s.claims.session.observe(resp.SessionToken)
	if !resp.Success {
		return batchErr(op, resp.OperationResults)
	}
	return nil
}

// ReplaceClaim replaces the claim with If-Match on the version the caller read.
func (s *Store) ReplaceClaim(ctx context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	if c.Version == "" {
		return gdpr.Claim{}, conflict("a claim is replaced at the version read")
	}
	env, err := claimEnvelope(c)
	if err != nil {
		return gdpr.Claim{}, err
	}
	return update(ctx, s.claims, env, c.Version, claimVersion)
}

// ReleaseClaims deletes each claim with If-Match on the _etag it read, so it never deletes a
// claim another owner took over in between.
func (s *Store) ReleaseClaims(ctx context.Context, brand gdpr.BrandID, claims ...gdpr.Claim) error {
	for _, c := range claims {
		if err := s.releaseClaim(ctx, brand, c.Key, c.Owner); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) releaseClaim(ctx context.Context, brand gdpr.BrandID, key, owner string) error {
	id := keyID(key)
	for range maxRetries {
		holder, err := get(ctx, s.claims, brand, id, claimVersion)
		if errors.Is(err, gdpr.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if holder.Owner != owner {
			return nil
		}
		err = deleteItem(ctx, s.claims, string(brand), id, holder.Version)
		switch {
		case err == nil, errors.Is(err, gdpr.ErrNotFound):
			return nil
		case errors.Is(err, gdpr.ErrConflict):
			continue
		default:
			return err
		}
	}
	return &gdpr.Error{Code: gdpr.CodeUnavailable, Message: "cosmosstore: claim contended, retry"}
}

// ---- blacklist, whitelist ----

func blacklistVersion(e *gdpr.BlacklistEntry) *string { return &e.Version }

// PutBlacklist creates each entry; one that exists is read, merged (gdpr.BlacklistEntry.Merge)
// and replaced under its ETag only when the merge changes it, so a replayed event costs the
// create's 409 and a read, never a write.
func (s *Store) PutBlacklist(ctx context.Context, entries ...gdpr.BlacklistEntry) error {
	for _, e := range entries {
		env, err := blacklistEnvelope(e)
		if err != nil {
			return err
		}
		if _, err := createItem(ctx, s.blacklist, env); !errors.Is(err, gdpr.ErrConflict) {
			if err != nil {
				return err
			}
			continue
		}
		if err := s.mergeBlacklist(ctx, e, env); err != nil {
			return err
		}
	}
	return nil
}

// mergeBlacklist merges e (whose envelope is env) into the stored entry, re-reading on a
// concurrent write.
func (s *Store) mergeBlacklist(ctx context.Context, e gdpr.BlacklistEntry, env envelope) error {
	for range maxRetries {
		stored, err := get(ctx, s.blacklist, e.BrandID, keyID(e.Digest), blacklistVersion)
		if errors.Is(err, gdpr.ErrNotFound) {
			// Removed since the create's 409: the event lists the address again.
			if _, err := createItem(ctx, s.blacklist, env); !errors.Is(err, gdpr.ErrConflict) {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		merged, changed := stored.Merge(e)
		if !changed {
			return nil
		}
		menv, err := blacklistEnvelope(merged)
		if err != nil {
			return err
		}
		if _, err := replaceItem(ctx, s.blacklist, menv, stored.Version); !errors.Is(err, gdpr.ErrConflict) && !errors.Is(err, gdpr.ErrNotFound) {
			return err
		}
	}
	return &gdpr.Error{Code: gdpr.CodeUnavailable, Message: "cosmosstore: blacklist entry contended, retry"}
}

func (s *Store) GetBlacklist(ctx context.Context, brand gdpr.BrandID, digest string) (gdpr.BlacklistEntry, error) {
	return get(ctx, s.blacklist, brand, keyID(digest), blacklistVersion)
}

// RemoveBlacklist keeps the record first, then deletes the entry under its ETag; a refused
// delete takes back the record it just created. Cosmos DB has no transaction across two
// containers, so a crash between the two leaves a record and the entry still listed (mail
// still suppressed, never an unrecorded removal); the admin's retry reads the same version,
// makes the same record id, and completes the removal.
func (s *Store) RemoveBlacklist(ctx context.Context, e gdpr.BlacklistEntry, r gdpr.BlacklistRemoval) error {
	if r.BrandID != e.BrandID {
		return gdpr.Errorf(gdpr.CodeInvalid, "a removal record of another brand") // R-TEN-1
	}
	if e.Version == "" {
		_, err := readItem(ctx, s.blacklist, string(e.BrandID), keyID(e.Digest))
		if err != nil {
			return err
		}
		return conflict("a blacklist entry is removed at the version read")
	}
	env, err := removalEnvelope(r)
	if err != nil {
		return err
	}
	recordETag, err := createItem(ctx, s.removals, env)
	created := err == nil
	if err != nil && !errors.Is(err, gdpr.ErrConflict) {
		return err
	}
	err = deleteItem(ctx, s.blacklist, string(e.BrandID), keyID(e.Digest), e.Version)
	if err != nil && created {
		if undo := deleteItem(ctx, s.removals, string(r.BrandID), r.ID, recordETag); undo != nil && !errors.Is(undo, gdpr.ErrNotFound) {
			return errors.Join(err, undo)
		}
	}
	return err
}

func (s *Store) ListBlacklistRemovals(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.BlacklistRemoval, error) {
	return list[gdpr.BlacklistRemoval](ctx, s.removals, brand, qPageByID, afterParam(after), max(limit, 0), nil, nil)
}

func softBounceVersion(st *gdpr.SoftBounceStreak) *string { return &st.Version }

func (s *Store) GetSoftBounces(ctx context.Context, brand gdpr.BrandID, digest string) (gdpr.SoftBounceStreak, error) {
	return get(ctx, s.softBounces, brand, keyID(digest), softBounceVersion)
}

// PutSoftBounces creates a streak (no version) or replaces it under its ETag.
func (s *Store) PutSoftBounces(ctx context.Context, st gdpr.SoftBounceStreak) (gdpr.SoftBounceStreak, error) {
	env, err := softBounceEnvelope(st)
	if err != nil {
		return gdpr.SoftBounceStreak{}, err
	}
	if st.Version == "" {
		return create(ctx, s.softBounces, env, softBounceVersion)
	}
	return update(ctx, s.softBounces, env, st.Version, softBounceVersion)
}

func (s *Store) AddWhitelist(ctx context.Context, entries ...gdpr.WhitelistEntry) error {
	envs := make([]envelope, len(entries))
	for i, e := range entries {
		env, err := whitelistEnvelope(e)
		if err != nil {
			return err
		}
		envs[i] = env
	}
	return createAllKeepFirst(ctx, s.whitelist, envs)
}

func (s *Store) IsWhitelisted(ctx context.Context, brand gdpr.BrandID, kind gdpr.WhitelistKind, digest string) (bool, error) {
	_, err := readItem(ctx, s.whitelist, string(brand), keyID(whitelistKey(kind, digest)))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, gdpr.ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

// createAllKeepFirst creates each document; one that exists already is left as it is.
func createAllKeepFirst(ctx context.Context, c *container, envs []envelope) error {
	for _, env := range envs {
		if _, err := createItem(ctx, c, env); err != nil && !errors.Is(err, gdpr.ErrConflict) {
			return err
		}
	}
	return nil
}

// ---- tokens ----

func (s *Store) CreateToken(ctx context.Context, t gdpr.Token) (gdpr.Token, error) {
	env, err := tokenEnvelope(t)
	if err != nil {
		return gdpr.Token{}, err
	}
	return create(ctx, s.tokens, env, tokenVersion)
}

func (s *Store) GetToken(ctx context.Context, brand gdpr.BrandID, digest string) (gdpr.Token, error) {
	return get(ctx, s.tokens, brand, keyID(digest), tokenVersion)
}

func (s *Store) UpdateToken(ctx context.Context, t gdpr.Token) (gdpr.Token, error) {
	env, err := tokenEnvelope(t)
	if err != nil {
		return gdpr.Token{}, err
	}
	return update(ctx, s.tokens, env, t.Version, tokenVersion)
}

// ---- erasures ----

// PutErasures creates each record unless its id exists. Not a transactional batch: a create
// that meets an existing id would fail the whole batch, and the records are independent.
func (s *Store) PutErasures(ctx context.Context, brand gdpr.BrandID, records []gdpr.ErasureRecord) ([]gdpr.ErasureRecord, error) {
	envs := make([]envelope, len(records))
	for i, r := range records {
		if r.BrandID != brand {
			return nil, gdpr.Errorf(gdpr.CodeInvalid, "an erasure record of another brand in a batch") // R-TEN-1
		}
		var err error
		if envs[i], err = erasureEnvelope(r); err != nil {
			return nil, err
		}
	}
	out := make([]gdpr.ErasureRecord, len(records))
	for i, r := range records {
		env := envs[i]
		var err error
		out[i], err = create[gdpr.ErasureRecord](ctx, s.erasures, env, nil)
		if errors.Is(err, gdpr.ErrConflict) {
			out[i], err = get[gdpr.ErasureRecord](ctx, s.erasures, r.BrandID, r.ID, nil)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) ListErasures(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.ErasureRecord, error) {
	return list[gdpr.ErasureRecord](ctx, s.erasures, brand, qPageByID, afterParam(after), max(limit, 0), nil, nil)
}

// findChunk bounds the ids of one FindErasures query: a query's text and parameters stay
// well under Cosmos DB's limits however many ids a day of the ledger holds.
const findChunk = 256

// FindErasures runs one query per chunk of ids in the brand's partition: its cost follows
// the ids asked, not the size of the audit trail.
func (s *Store) FindErasures(ctx context.Context, brand gdpr.BrandID, ids []string) ([]string, error) {
	found := []string{}
	for chunk := range slices.Chunk(ids, findChunk) {
		params := []azcosmos.QueryParameter{{Name: "@ids", Value: chunk}}
		rs, err := list[gdpr.ErasureRecord](ctx, s.erasures, brand, qErasuresIn, params, -1, nil, nil)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			found = append(found, r.ID)
		}
	}
	slices.Sort(found)
	return found, nil
}

// ---- digests (the hash-key rotation) ----

// The lists page by document id, the order of qPageByID; a page resumes after the id of the
// last item, computed from it as its document was named.

func (s *Store) ListClaims(ctx context.Context, brand gdpr.BrandID, afterKey string, limit int) ([]gdpr.Claim, error) {
	return list(ctx, s.claims, brand, qPageByID, afterParam(afterID(afterKey, keyID)), max(limit, 0), nil, claimVersion)
}

func (s *Store) ListBlacklist(ctx context.Context, brand gdpr.BrandID, afterDigest string, limit int) ([]gdpr.BlacklistEntry, error) {
	return list[gdpr.BlacklistEntry](ctx, s.blacklist, brand, qPageByID, afterParam(afterID(afterDigest, keyID)), max(limit, 0), nil, nil)
}

// RekeyBlacklist creates the new entry, then deletes the old one: two requests, in an order
// that never leaves the address unlisted.
func (s *Store) RekeyBlacklist(ctx context.Context, from string, e gdpr.BlacklistEntry) error {
	if err := s.PutBlacklist(ctx, e); err != nil {
		return err
	}
	if from == e.Digest {
		return nil
	}
	return deleteIfThere(ctx, s.blacklist, string(e.BrandID), keyID(from))
}

func (s *Store) ListSoftBounces(ctx context.Context, brand gdpr.BrandID, afterDigest string, limit int) ([]gdpr.SoftBounceStreak, error) {
	return list(ctx, s.softBounces, brand, qPageByID, afterParam(afterID(afterDigest, keyID)), max(limit, 0), nil, softBounceVersion)
}

// RekeySoftBounces creates the streak under its new digest (one there already is kept), then
// deletes the old one: two requests.
func (s *Store) RekeySoftBounces(ctx context.Context, from string, st gdpr.SoftBounceStreak) error {
	st.Version = ""
	if _, err := s.PutSoftBounces(ctx, st); err != nil && !errors.Is(err, gdpr.ErrConflict) {
		return err
	}
	if from == st.Digest {
		return nil
	}
	return deleteIfThere(ctx, s.softBounces, string(st.BrandID), keyID(from))
}

func (s *Store) ListWhitelist(ctx context.Context, brand gdpr.BrandID, after gdpr.WhitelistEntry, limit int) ([]gdpr.WhitelistEntry, error) {
	id := ""
	if after.Kind != "" {
		id = keyID(whitelistKey(after.Kind, after.Digest))
	}
	return list[gdpr.WhitelistEntry](ctx, s.whitelist, brand, qPageByID, afterParam(id), max(limit, 0), nil, nil)
}

// RekeyWhitelist creates the new entry, then deletes the old one.
func (s *Store) RekeyWhitelist(ctx context.Context, from string, e gdpr.WhitelistEntry) error {
	if err := s.AddWhitelist(ctx, e); err != nil {
		return err
	}
	if from == e.Digest {
		return nil
	}
	return deleteIfThere(ctx, s.whitelist, string(e.BrandID), keyID(whitelistKey(e.Kind, from)))
}

// afterID is the document id a page resumes after: none for the first page.
func afterID(after string, id func(string) string) string {
	if after == "" {
		return ""
	}
	return id(after)
}

// deleteIfThere deletes a document unconditionally; one already gone is no error.
func deleteIfThere(ctx context.Context, c *container, brand, id string) error {
	resp, err := c.DeleteItem(ctx, pk(brand), id, nil)
	if err != nil {
		if err = mapErr("delete "+c.ID(), err); errors.Is(err, gdpr.ErrNotFound) {
			return nil
		}
		return err
	}
	c.session.observe(deref(resp.SessionToken))
	return nil
}
