package localstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"popsell-gdpr/internal/gdpr"
)

func brandVersion(b *gdpr.Brand) *string     { return &b.Version }
func userVersion(u *gdpr.User) *string       { return &u.Version }
func contactVersion(c *gdpr.Contact) *string { return &c.Version }
func tokenVersion(t *gdpr.Token) *string     { return &t.Version }
func claimVersion(c *gdpr.Claim) *string     { return &c.Version }

func (s *Store) PutBrand(ctx context.Context, b gdpr.Brand) (gdpr.Brand, error) {
	doc, err := encode(b)
	if err != nil {
		return gdpr.Brand{}, fail("put brand", err)
	}
	if b.Version == "" {
		b.Version = formatVersion(1)
		return result(b, s.insert(ctx, "brand",
			`INSERT INTO brands (id, doc) VALUES (?, ?) ON CONFLICT DO NOTHING`, b.ID, doc))
	}
	b.Version, err = s.update(ctx, "brand",
		`UPDATE brands SET version = ?, doc = ? WHERE id = ? AND version = ?`,
		`SELECT 1 FROM brands WHERE id = ?`, b.Version, []any{doc}, b.ID)
	return result(b, err)
}

func (s *Store) GetBrand(ctx context.Context, id gdpr.BrandID) (gdpr.Brand, error) {
	return one(ctx, s.r, "brand", brandVersion, `SELECT version, doc FROM brands WHERE id = ?`, id)
}

func (s *Store) ListBrands(ctx context.Context) ([]gdpr.Brand, error) {
	bs, err := all(ctx, s.r, brandVersion, `SELECT version, doc FROM brands ORDER BY id`)
	if err != nil {
		return nil, fail("list brands", err)
	}
	return bs, nil
}

const insertUser = `INSERT INTO users (brand_id, id, next_review_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`

func userRow(u gdpr.User) ([]any, error) {
	doc, err := encode(u)
	return []any{u.BrandID, u.ID, nanos(u.NextReviewAt), doc}, err
}

func (s *Store) CreateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	row, err := userRow(u)
	if err != nil {
		return gdpr.User{}, fail("create user", err)
	}
	u.Version = formatVersion(1)
	return result(u, s.insert(ctx, "user", insertUser, row...))
}

func (s *Store) GetUser(ctx context.Context, brand gdpr.BrandID, id string) (gdpr.User, error) {
	return one(ctx, s.r, "user", userVersion,
		`SELECT version, doc FROM users WHERE brand_id = ? AND id = ?`, brand, id)
}

// Batch reads take their ids as one JSON array, which json_each turns into a table: one
// prepared statement for any number of ids, each looked up through an index
// (TestBatchReadsUseIndexes).
const (
	qUsersByID         = `SELECT version, doc FROM users WHERE brand_id = ? AND id IN (SELECT value FROM json_each(?))`
	qContactsOfMembers = `SELECT version, doc FROM contacts WHERE brand_id = ? AND member_id IN (SELECT value FROM json_each(?))
		ORDER BY member_id, id`
)

func (s *Store) GetUsers(ctx context.Context, brand gdpr.BrandID, ids []string) ([]gdpr.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fail("get users", err)
	}
	us, err := all(ctx, s.r, userVersion, qUsersByID, brand, list)
	if err != nil {
		return nil, fail("get users", err)
	}
	return us, nil
}

func (s *Store) UpdateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	return writeOne(ctx, s, "user", u, updateUser)
}

func (s *Store) UpdateUsers(ctx context.Context, brand gdpr.BrandID, users []gdpr.User) ([]gdpr.User, error) {
	return updateMany(ctx, s, "user", brand, users, func(u gdpr.User) gdpr.BrandID { return u.BrandID }, updateUser)
}

func updateUser(ctx context.Context, c conn, u gdpr.User, doc string) (gdpr.User, error) {
	var err error
	u.Version, err = update(ctx, c, "user",
		`UPDATE users SET version = ?, next_review_at = ?, doc = ?
		 WHERE brand_id = ? AND id = ? AND version = ?`,
		`SELECT 1 FROM users WHERE brand_id = ? AND id = ?`,
		u.Version, []any{nanos(u.NextReviewAt), doc}, u.BrandID, u.ID)
	return result(u, err)
}

func (s *Store) ListUsers(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.User, error) {
	return list(ctx, s, "users", userVersion,
		limit, `SELECT version, doc FROM users WHERE brand_id = ? AND id > ? ORDER BY id LIMIT ?`, brand, after)
}

// qUsersByIdP is served by the users_idp index, whose expression it repeats word for word
// (TestBatchReadsUseIndexes).
const qUsersByIdP = `SELECT version, doc FROM users WHERE brand_id = ? AND json_extract(doc, '$.idpExternalId') = ?
	ORDER BY id LIMIT ?`

func (s *Store) UsersByIdPExternalID(ctx context.Context, brand gdpr.BrandID, id string, limit int) ([]gdpr.User, error) {
	if id == "" {
		return []gdpr.User{}, nil
	}
	return list(ctx, s, "users by idp id", userVersion, limit, qUsersByIdP, brand, id)
}

func (s *Store) DueUsers(ctx context.Context, brand gdpr.BrandID, now time.Time, after gdpr.DueCursor, limit int) ([]gdpr.User, error) {
	query, args := dueQuery("users", brand, now, after)
	return list(ctx, s, "due users", userVersion, limit, query, args...)
}

// dueQuery reads a page of the due index of table (users or contacts): documents whose
// next_review_at is set and not after now, and whose (next_review_at, id) comes after the
// cursor, in that order. The row-value comparison lets SQLite seek straight to the cursor in
// the partial index on (brand_id, next_review_at, id), which also yields the order: the page
// costs O(limit), never a scan of what earlier pages read, nor a sort (TestDueUsesIndex).
// The cursor's time is stored as next_review_at is (nanos), so it compares exactly. A zero
// cursor time starts at the beginning; the query then has no cursor term at all.
func dueQuery(table string, brand gdpr.BrandID, now time.Time, after gdpr.DueCursor) (string, []any) {
	if after.At.IsZero() {
		return dueQueries[table][0], []any{brand, nanos(now)}
	}
	return dueQueries[table][1], []any{brand, nanos(now), nanos(after.At), after.ID}
}

// dueQueries holds, per table, the due query from the start and the one after a cursor; the
// limit is bound last (see list).
var dueQueries = map[string][2]string{
	"users":    dueQueryPair("users"),
	"contacts": dueQueryPair("contacts"),
}

func dueQueryPair(table string) [2]string {
	const head = `SELECT version, doc FROM %s WHERE brand_id = ? AND next_review_at IS NOT NULL AND next_review_at <= ?`
	const tail = ` ORDER BY next_review_at, id LIMIT ?`
	return [2]string{
		fmt.Sprintf(head, table) + tail,
		fmt.Sprintf(head, table) + ` AND (next_review_at, id) > (?, ?)` + tail,
	}
}

const insertContact = `INSERT INTO contacts (brand_id, id, member_id, next_review_at, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`

func contactRow(c gdpr.Contact) ([]any, error) {
	doc, err := encode(c)
	return []any{c.BrandID, c.ID, c.MemberID, nanos(c.NextReviewAt), doc}, err
}

func (s *Store) CreateContact(ctx context.Context, c gdpr.Contact) (gdpr.Contact, error) {
	row, err := contactRow(c)
	if err != nil {
		return gdpr.Contact{}, fail("create contact", err)
	}
	c.Version = formatVersion(1)
	return result(c, s.insert(ctx, "contact", insertContact, row...))
}

func (s *Store) GetContact(ctx context.Context, brand gdpr.BrandID, id string) (gdpr.Contact, error) {
	return one(ctx, s.r, "contact", contactVersion,
		`SELECT version, doc FROM contacts WHERE brand_id = ? AND id = ?`, brand, id)
}

func (s *Store) UpdateContact(ctx context.Context, c gdpr.Contact) (gdpr.Contact, error) {
	return writeOne(ctx, s, "contact", c, updateContact)
}

func (s *Store) UpdateContacts(ctx context.Context, brand gdpr.BrandID, contacts []gdpr.Contact) ([]gdpr.Contact, error) {
	return updateMany(ctx, s, "contact", brand, contacts, func(c gdpr.Contact) gdpr.BrandID { return c.BrandID }, updateContact)
}

// updateContact first tries the update that keeps the contact's member: an UPDATE that
// names member_id rewrites its index entry even when the value stays, a fifth of the cost of
// erasing a contact. Only a contact moved to another member takes the second statement.
func updateContact(ctx context.Context, w conn, c gdpr.Contact, doc string) (gdpr.Contact, error) {
	if v, err := strconv.ParseInt(c.Version, 10, 64); err == nil {
		res, err := exec(ctx, w, `UPDATE contacts SET version = ?, next_review_at = ?, doc = ?
			WHERE brand_id = ? AND id = ? AND version = ? AND member_id = ?`,
			v+1, nanos(c.NextReviewAt), doc, c.BrandID, c.ID, v, c.MemberID)
		if err != nil {
			return gdpr.Contact{}, fail("update contact", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			c.Version = formatVersion(v + 1)
			return c, nil
		}
	}
	var err error
	c.Version, err = update(ctx, w, "contact",
		`UPDATE contacts SET version = ?, member_id = ?, next_review_at = ?, doc = ?
		 WHERE brand_id = ? AND id = ? AND version = ?`,
		`SELECT 1 FROM contacts WHERE brand_id = ? AND id = ?`,
		c.Version, []any{c.MemberID, nanos(c.NextReviewAt), doc}, c.BrandID, c.ID)
	return result(c, err)
}

// docWrite writes a document whose JSON is given: callers encode before they take the write
// connection, so the single writer never waits on JSON.
type docWrite[T any] func(ctx context.Context, c conn, v T, doc string) (T, error)

// writeOne runs one write holding the write connection.
func writeOne[T any](ctx context.Context, s *Store, what string, v T, write docWrite[T]) (out T, err error) {
	doc, err := encode(v)
	if err != nil {
		return out, fail("update "+what, err)
	}
	err = s.write(ctx, func(w conn) error {
		out, err = write(ctx, w, v, doc)
		return err
	})
	return out, err
}

// updateMany applies updates in chunks of gdpr.MaxBatch, each all or nothing, as Cosmos DB's
// transactional batch does, so local mode fails the way Azure does: the chunks before a
// failing one stay applied. Each chunk is a savepoint of one transaction rather than a
// transaction of its own, so the call commits once: every commit costs the single writer a
// sweep of its page cache (see Open).
func updateMany[T any](ctx context.Context, s *Store, what string, brand gdpr.BrandID, docs []T,
	brandOf func(T) gdpr.BrandID, write docWrite[T]) ([]T, error) {
	encoded := make([]string, len(docs))
	for i, d := range docs {
		if brandOf(d) != brand {
			return nil, gdpr.Errorf(gdpr.CodeInvalid, "a %s of another brand in a batch", what) // R-TEN-1
		}
		var err error
		if encoded[i], err = encode(d); err != nil {
			return nil, fail("update "+what, err)
		}
	}
	out := make([]T, 0, len(docs))
	var failed error
	err := s.inTx(ctx, func(tx conn) error {
		for start := 0; start < len(docs); start += gdpr.MaxBatch {
			end := min(start+gdpr.MaxBatch, len(docs))
			chunkErr, txErr := inSavepoint(ctx, tx, func() error {
				for i := start; i < end; i++ {
					d, err := write(ctx, tx, docs[i], encoded[i])
					if err != nil {
						return err
					}
					out = append(out, d)
				}
				return nil
			})
			if txErr != nil {
				return txErr
			}
			if chunkErr != nil {
				failed = chunkErr
				return nil // commit the chunks before this one
			}
		}
		return nil
	})
	if err == nil {
		err = failed
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) ContactsOfMembers(ctx context.Context, brand gdpr.BrandID, memberIDs []string) ([]gdpr.Contact, error) {
	if len(memberIDs) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(memberIDs)
	if err != nil {
		return nil, fail("contacts of members", err)
	}
	cs, err := all(ctx, s.r, contactVersion, qContactsOfMembers, brand, list)
	if err != nil {
		return nil, fail("contacts of members", err)
	}
	return cs, nil
}

func (s *Store) ListContacts(ctx context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.Contact, error) {
	return list(ctx, s, "contacts", contactVersion,
		limit, `SELECT version, doc FROM contacts WHERE brand_id = ? AND id > ? ORDER BY id LIMIT ?`, brand, after)
}

func (s *Store) DueContacts(ctx context.Context, brand gdpr.BrandID, now time.Time, after gdpr.DueCursor, limit int) ([]gdpr.Contact, error) {
	query, args := dueQuery("contacts", brand, now, after)
	return list(ctx, s, "due contacts", contactVersion, limit, query, args...)
}

// list reads a page; its query takes the limit last.
func list[T any](ctx context.Context, s *Store, what string, versionOf func(*T) *string, limit int, query string, args ...any) ([]T, error) {
	if limit <= 0 {
		return nil, nil // SQLite would read it as no limit
	}
	vs, err := all(ctx, s.r, versionOf, query, append(args, limit)...)
	if err != nil {
		return nil, fail("list "+what, err)
	}
	return vs, nil
}

// CreateToken also drops the brand's tokens that expired before t was made: the clock of the
// caller, not the wall clock, decides what has expired.
func (s *Store) CreateToken(ctx context.Context, t gdpr.Token) (gdpr.Token, error) {
	doc, err := encode(t)
	if err != nil {
		return gdpr.Token{}, fail("create token", err)
	}
	err = s.inTx(ctx, func(c conn) error {
		if !t.CreatedAt.IsZero() {
			if _, err := exec(ctx, c, `DELETE FROM tokens WHERE brand_id = ? AND expires_at <= ?`,
				t.BrandID, nanos(t.CreatedAt)); err != nil {
				return fail("purge tokens", err)
			}
		}
		return insert(ctx, c, "token",
			`INSERT INTO tokens (brand_id, digest, expires_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			t.BrandID, t.Digest, nanos(t.ExpiresAt), doc)
	})
	t.Version = formatVersion(1)
	return result(t, err)
}

func (s *Store) GetToken(ctx context.Context, brand gdpr.BrandID, digest string) (gdpr.Token, error) {
	return one(ctx, s.r, "token", tokenVersion,
		`SELECT version, doc FROM tokens WHERE brand_id = ? AND digest = ?`, brand, digest)
}

func (s *Store) UpdateToken(ctx context.Context, t gdpr.Token) (gdpr.Token, error) {
	doc, err := encode(t)
	if err != nil {
		return gdpr.Token{}, fail("update token", err)
	}
	t.Version, err = s.update(ctx, "token",
		`UPDATE tokens SET version = ?, expires_at = ?, doc = ?
		 WHERE brand_id = ? AND digest = ? AND version = ?`,
		`SELECT 1 FROM tokens WHERE brand_id = ? AND digest = ?`,
		t.Version, []any{nanos(t.ExpiresAt), doc}, t.BrandID, t.Digest)
	return result(t, err)
}
