// Package localstore serves every store port of the domain in local mode: one SQLite file, in
// pure Go (no cgo), so the whole platform runs from a data directory with nothing else
// installed.
//
// Each document is a row of its brand id, its id, an integer version and its JSON, plus the
// few columns an index needs. SQLite has one writer at a time, so the store has exactly one
// write connection, which writers queue for instead of failing with SQLITE_BUSY, and a pool of
// readers that WAL lets run beside it.
package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"popsell-gdpr/internal/gdpr"
)

// The domain's store ports, all served by one Store (internal/storetest proves each).
var _ gdpr.Store = (*Store)(nil)

// Store is safe for concurrent use.
type Store struct {
	r *pool // readers

	wlock chan struct{} // held while w is in use: writers queue here, never on SQLITE_BUSY
	w     *writer
	wdb   *sql.DB // owns w's connection
}

// schemaVersion is kept in PRAGMA user_version, so a later schema can tell an old file.
const schemaVersion = 1

const schema = `
CREATE TABLE IF NOT EXISTS brands (
	id      TEXT NOT NULL PRIMARY KEY,
	version INTEGER NOT NULL DEFAULT 1,
	doc     TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS users (
	brand_id       TEXT NOT NULL,
	id             TEXT NOT NULL,
	version        INTEGER NOT NULL DEFAULT 1,
	next_review_at INTEGER, -- unix nanoseconds; NULL: never due
	doc            TEXT NOT NULL,
	PRIMARY KEY (brand_id, id)
) STRICT;
CREATE INDEX IF NOT EXISTS users_due ON users (brand_id, next_review_at, id) WHERE next_review_at IS NOT NULL;
-- SCIM's externalId (UsersByIdPExternalID). An index on an expression of doc, so a file of
-- an older program gets it on open, built from the documents it has, with no migration.
CREATE INDEX IF NOT EXISTS users_idp ON users (brand_id, json_extract(doc, '$.idpExternalId'), id)
	WHERE json_extract(doc, '$.idpExternalId') IS NOT NULL;

CREATE TABLE IF NOT EXISTS contacts (
	brand_id       TEXT NOT NULL,
	id             TEXT NOT NULL,
	version        INTEGER NOT NULL DEFAULT 1,
	next_review_at INTEGER,
	member_id      TEXT NOT NULL,
	doc            TEXT NOT NULL,
	PRIMARY KEY (brand_id, id)
) STRICT;
CREATE INDEX IF NOT EXISTS contacts_due ON contacts (brand_id, next_review_at, id) WHERE next_review_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS contacts_member ON contacts (brand_id, member_id, id);

CREATE TABLE IF NOT EXISTS claims (
	brand_id   TEXT NOT NULL,
	key        TEXT NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1,
	owner      TEXT NOT NULL,
	expires_at INTEGER, -- NULL: held until released
	doc        TEXT NOT NULL,
	PRIMARY KEY (brand_id, key)
) STRICT;

CREATE TABLE IF NOT EXISTS blacklist (
	brand_id TEXT NOT NULL,
	digest   TEXT NOT NULL,
	version  INTEGER NOT NULL DEFAULT 1,
	doc      TEXT NOT NULL,
	PRIMARY KEY (brand_id, digest)
) STRICT;

CREATE TABLE IF NOT EXISTS blacklist_removals (
	brand_id TEXT NOT NULL,
	id       TEXT NOT NULL,
	version  INTEGER NOT NULL DEFAULT 1,
	doc      TEXT NOT NULL,
	PRIMARY KEY (brand_id, id)
) STRICT;

CREATE TABLE IF NOT EXISTS soft_bounces (
	brand_id TEXT NOT NULL,
	digest   TEXT NOT NULL,
	version  INTEGER NOT NULL DEFAULT 1,
	doc      TEXT NOT NULL,
	PRIMARY KEY (brand_id, digest)
) STRICT;

CREATE TABLE IF NOT EXISTS whitelist (
	brand_id TEXT NOT NULL,
	kind     TEXT NOT NULL,
	digest   TEXT NOT NULL,
	version  INTEGER NOT NULL DEFAULT 1,
	doc      TEXT NOT NULL,
	PRIMARY KEY (brand_id, kind, digest)
) STRICT;

CREATE TABLE IF NOT EXISTS tokens (
	brand_id   TEXT NOT NULL,
	digest     TEXT NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1,
	expires_at INTEGER,
	doc        TEXT NOT NULL,
	PRIMARY KEY (brand_id, digest)
) STRICT;
CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (brand_id, expires_at) WHERE expires_at IS NOT NULL;

-- The register of data-subject requests (R-RIGHTS-1). Ids sort by receipt, so the register
-- pages by id; kind and subject_id are the filters it is read by.
CREATE TABLE IF NOT EXISTS requests (
	brand_id   TEXT NOT NULL,
	id         TEXT NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1,
	kind       TEXT NOT NULL,
	subject_id TEXT NOT NULL,
	doc        TEXT NOT NULL,
	PRIMARY KEY (brand_id, id)
) STRICT;
CREATE INDEX IF NOT EXISTS requests_kind ON requests (brand_id, kind, id);
CREATE INDEX IF NOT EXISTS requests_subject ON requests (brand_id, subject_id, id) WHERE subject_id != '';

CREATE TABLE IF NOT EXISTS erasures (
	brand_id TEXT NOT NULL,
	id       TEXT NOT NULL,
	version  INTEGER NOT NULL DEFAULT 1,
	doc      TEXT NOT NULL,
	PRIMARY KEY (brand_id, id)
) STRICT;

-- Export records, keyed by the request they answer; found by their link's token digest, and
-- swept while their file lives (live = 1).
CREATE TABLE IF NOT EXISTS exports (
	brand_id     TEXT NOT NULL,
	request_id   TEXT NOT NULL,
	version      INTEGER NOT NULL DEFAULT 1,
	token_digest TEXT NOT NULL,
	live         INTEGER NOT NULL,
	doc          TEXT NOT NULL,
	PRIMARY KEY (brand_id, request_id)
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS exports_token ON exports (brand_id, token_digest);
CREATE INDEX IF NOT EXISTS exports_live ON exports (brand_id, request_id) WHERE live = 1;
`

// Open opens the store in the file at path, creating it and its directory if needed.
func Open(path string) (*Store, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	// Created here rather than by SQLite so the file is private; SQLite gives the -wal and -shm
	// files the mode of the database.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	f.Close()

	wdb, err := openDB(path, 1,
		"busy_timeout(10000)", // another process may hold the file; this one never waits on itself
		"synchronous(NORMAL)", // with WAL: durable but for the last commits on power loss
		"secure_delete(ON)",   // freed cells and pages are zeroed, so erased values leave the file
		"temp_store(MEMORY)",  // sorts never spill rows into temporary files
		// 16 MiB, not more: a commit can cost a sweep of the writer's whole page cache. When a
		// b-tree rebalance reorders its pages, SQLite parks one under the number of the page
		// at 1 GiB, and at commit it drops cached pages past the end of the file by scanning
		// the whole cache hash (pcache1TruncateUnsafe, ~1 ms at 64 MiB). Measured, the erasure
		// worker erases ~12% more per second than with 64 MiB; batches commit once for the
		// same reason (updateMany).
		"cache_size(-16384)",
		// A bulk load's log shrinks back once checkpointed.
		"journal_size_limit(67108864)",
	)
	if err != nil {
		return nil, err
	}
	s := &Store{wdb: wdb, wlock: make(chan struct{}, 1)}
	if err := s.start(path); err != nil {
		s.Close()
		return nil, err
	}
	// A process killed between an erasure and its scrub left the erased values in the log
	// (and their old pages in the file, the erasure not yet checkpointed over them). Nothing
	// remembers that across the crash, so every open scrubs: one checkpoint, cheap when the
	// log is empty.
	if err := s.Scrub(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) start(path string) error {
	ctx := context.Background()
	c, err := s.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	s.w = &writer{conn: c, stmts: map[string]*sql.Stmt{}}
	if err := migrate(ctx, c); err != nil {
		return err
	}
	rdb, err := openDB(path, max(4, runtime.GOMAXPROCS(0)),
		"busy_timeout(10000)",
		"query_only(1)",
		"temp_store(MEMORY)",
		"cache_size(-16384)",
	)
	if err != nil {
		return err
	}
	s.r = &pool{DB: rdb}
	return nil
}

func openDB(path string, conns int, pragmas ...string) (*sql.DB, error) {
	q := url.Values{"_pragma": pragmas}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("localstore: %w", err)
	}
	return db, nil
}

func migrate(ctx context.Context, c *sql.Conn) error {
	var v int
	if err := c.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("localstore: the file has schema %d, newer than this program's %d", v, schemaVersion)
	}
	// The page size is fixed before WAL and the first table. 4 KiB pages hold a single 2 KiB
	// user; measured, 8 KiB pages insert 1.8 times and update 1.3 times as fast, and 16 KiB ones
	// update slower again, each commit logging bigger pages.
	const setup = "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL;"
	if _, err := c.ExecContext(ctx, setup+schema+"PRAGMA user_version = "+strconv.Itoa(schemaVersion)); err != nil {
		return fmt.Errorf("localstore: schema: %w", err)
	}
	return nil
}

// Close closes the store. The last connection to close folds the write-ahead log into the
// database and removes it.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.conn.Close())
	}
	return errors.Join(append(errs, s.wdb.Close())...)
}

// Scrub truncates the write-ahead log, the one place secure_delete does not reach: it keeps
// every page version written since the last checkpoint, erased values included.
func (s *Store) Scrub(ctx context.Context) error {
	return s.write(ctx, func(w conn) error {
		var busy, logged, moved int
		if _, err := scan(ctx, w, "PRAGMA wal_checkpoint(TRUNCATE)", nil, &busy, &logged, &moved); err != nil {
			return fail("scrub", err)
		}
		if busy != 0 {
			return &gdpr.Error{Code: gdpr.CodeUnavailable, Message: "scrub: a reader held the write-ahead log; retry"}
		}
		return nil
	})
}

// conn prepares statements: the reader pool, or the write connection while it is held.
type conn interface {
	stmt(ctx context.Context, query string) (*sql.Stmt, error)
}

// pool is a connection pool whose statements are prepared once, on first use.
type pool struct {
	*sql.DB
	stmts sync.Map // query → *sql.Stmt
}

func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := p.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// writer is the one write connection. Use it only while holding Store.wlock.
type writer struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

func (w *writer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := w.stmts[query]; st != nil {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

// write runs fn holding the write connection. Statements fn runs one after the other see no
// other writer between them.
func (s *Store) write(ctx context.Context, fn func(conn) error) error {
	select {
	case s.wlock <- struct{}{}:
	case <-ctx.Done():
		return fail("wait to write", ctx.Err())
	}
	defer func() { <-s.wlock }()
	return fn(s.w)
}

// inTx runs fn in one write transaction, all or nothing.
func (s *Store) inTx(ctx context.Context, fn func(conn) error) error {
	return s.write(ctx, func(w conn) error {
		// BEGIN IMMEDIATE takes the file's write lock up front, so no statement inside fails on it.
		if _, err := exec(ctx, w, "BEGIN IMMEDIATE"); err != nil {
			return fail("begin", err)
		}
		end := context.WithoutCancel(ctx) // a cancelled caller must still end the transaction
		err := fn(w)
		if err == nil {
			if _, err = exec(end, w, "COMMIT"); err != nil {
				err = fail("commit", err)
			}
		}
		if err != nil {
			exec(end, w, "ROLLBACK") // fails only when SQLite already rolled back
		}
		return err
	})
}

// inSavepoint runs fn inside the open transaction as one unit. When fn fails, what it wrote
// is undone and its error comes back as failed; the transaction goes on. An error that leaves
// the transaction in doubt comes back as broken: the caller must roll it back.
func inSavepoint(ctx context.Context, tx conn, fn func() error) (failed, broken error) {
	if _, err := exec(ctx, tx, "SAVEPOINT chunk"); err != nil {
		return nil, fail("savepoint", err)
	}
	end := context.WithoutCancel(ctx) // a cancelled caller must still close the savepoint
	failed = fn()
	if failed != nil {
		if _, err := exec(end, tx, "ROLLBACK TO chunk"); err != nil {
			return nil, errors.Join(failed, fail("roll back savepoint", err))
		}
	}
	if _, err := exec(end, tx, "RELEASE chunk"); err != nil {
		return nil, errors.Join(failed, fail("release savepoint", err))
	}
	return failed, nil
}

// prepare returns the statement for query and the context to run it under: ctx, checked now,
// then no longer cancellable. To cancel a statement while it runs, the driver starts a
// goroutine and installs a progress handler for it, a sixth of the cost of a small update.
// Every statement here is short (indexed and paged), so cancellation is checked before each
// one instead; a wait for a file another process has locked (busy_timeout) runs to its end.
func prepare(ctx context.Context, c conn, query string) (*sql.Stmt, context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ctx = context.WithoutCancel(ctx)
	st, err := c.stmt(ctx, query)
	return st, ctx, err
}

func exec(ctx context.Context, c conn, query string, args ...any) (sql.Result, error) {
	st, ctx, err := prepare(ctx, c, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// scan runs a query of at most one row into dest and reports whether there was one.
func scan(ctx context.Context, c conn, query string, args []any, dest ...any) (bool, error) {
	st, ctx, err := prepare(ctx, c, query)
	if err != nil {
		return false, err
	}
	err = st.QueryRowContext(ctx, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// all runs a query of (version, doc) rows and decodes every document. versionOf points at the
// document's Version field; nil for the record types that have none.
func all[T any](ctx context.Context, c conn, versionOf func(*T) *string, query string, args ...any) ([]T, error) {
	st, ctx, err := prepare(ctx, c, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var (
			v       T
			version int64
			doc     []byte
		)
		if err := rows.Scan(&version, &doc); err != nil {
			return nil, err
		}
		if err := decode(doc, &v); err != nil {
			return nil, fmt.Errorf("corrupt document: %w", err)
		}
		if versionOf != nil {
			*versionOf(&v) = formatVersion(version)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// one is all for a query of at most one row; no row is ErrNotFound.
func one[T any](ctx context.Context, c conn, what string, versionOf func(*T) *string, query string, args ...any) (T, error) {
	vs, err := all(ctx, c, versionOf, query, args...)
	switch {
	case err != nil:
		var zero T
		return zero, fail("get "+what, err)
	case len(vs) == 0:
		var zero T
		return zero, notFound(what)
	}
	return vs[0], nil
}

// insert runs an INSERT … ON CONFLICT DO NOTHING; no row inserted means the id is taken.
func insert(ctx context.Context, c conn, what, query string, args ...any) error {
	res, err := exec(ctx, c, query, args...)
	if err != nil {
		return fail("create "+what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fail("create "+what, err)
	}
	if n == 0 {
		return conflict(what + " already exists")
	}
	return nil
}

// update runs an UPDATE … SET version = ?, … WHERE <key> AND version = ?, whose parameters
// are the new version, set, then key, then the version read, and returns the new version. The
// version guard makes the new one the old plus one, so Exec says all: no RETURNING, whose
// result rows cost the driver more than the update itself. An UPDATE that matches no row
// cannot say why, so a second look at key tells a missing document from a stale version.
func update(ctx context.Context, c conn, what, query, exists, version string, set []any, key ...any) (string, error) {
	if v, err := strconv.ParseInt(version, 10, 64); err == nil {
		res, err := exec(ctx, c, query, slices.Concat([]any{v + 1}, set, key, []any{v})...)
		if err != nil {
			return "", fail("update "+what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return "", fail("update "+what, err)
		}
		if n == 1 {
			return formatVersion(v + 1), nil
		}
	}
	var one int
	ok, err := scan(ctx, c, exists, key, &one)
	switch {
	case err != nil:
		return "", fail("update "+what, err)
	case !ok:
		return "", notFound(what)
	}
	return "", conflict(what + " changed since it was read")
}

func (s *Store) insert(ctx context.Context, what, query string, args ...any) error {
	return s.write(ctx, func(w conn) error { return insert(ctx, w, what, query, args...) })
}

func (s *Store) update(ctx context.Context, what, query, exists, version string, set []any, key ...any) (next string, err error) {
	err = s.write(ctx, func(w conn) error {
		next, err = update(ctx, w, what, query, exists, version, set, key...)
		return err
	})
	return next, err
}

func formatVersion(v int64) string { return strconv.FormatInt(v, 10) }

func encode(v any) (string, error) {
	if c, ok := v.(gdpr.Contact); ok {
		return encodeContact(c)
	}
	return encodeJSON(v)
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// decode reads a document written by encode.
func decode[T any](doc []byte, v *T) error {
	if c, ok := any(v).(*gdpr.Contact); ok {
		if fast, ok := decodeContact(doc); ok {
			*c = fast
			return nil
		}
	}
	return json.Unmarshal(doc, v)
}

var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// nanos is the column value of t: unix nanoseconds, clamped to what fits, or NULL when zero.
func nanos(t time.Time) any {
	switch {
	case t.IsZero():
		return nil
	case t.Before(minNanos):
		return int64(math.MinInt64)
	case t.After(maxNanos):
		return int64(math.MaxInt64)
	}
	return t.UnixNano()
}

// result returns v, or the zero value if err is set, so no caller sees a half-made document.
func result[T any](v T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

func notFound(what string) error {
	return &gdpr.Error{Code: gdpr.CodeNotFound, Message: what + " not found"}
}

func conflict(msg string) error { return &gdpr.Error{Code: gdpr.CodeConflict, Message: msg} }

// fail wraps an unexpected error; its code is internal. Messages name the operation, never a
// value, which may be personal data.
func fail(op string, err error) error { return fmt.Errorf("localstore: %s: %w", op, err) }
