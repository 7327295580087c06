package localstore

import (
	"context"
	"runtime"

	"popsell-gdpr/internal/gdpr"
)

// BulkCreateUsers creates users in one transaction, all or none: seeding a million rows one
// commit at a time would take minutes. An id that exists fails the batch with ErrConflict.
func (s *Store) BulkCreateUsers(ctx context.Context, users []gdpr.User) error {
	return bulk(ctx, s, "user", users, insertUser, userRow)
}

// BulkCreateContacts is BulkCreateUsers for contacts.
func (s *Store) BulkCreateContacts(ctx context.Context, contacts []gdpr.Contact) error {
	return bulk(ctx, s, "contact", contacts, insertContact, contactRow)
}

func bulk[T any](ctx context.Context, s *Store, what string, docs []T, query string, row func(T) ([]any, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pending := encodeAhead(ctx, docs, row)
	return s.inTx(ctx, func(tx conn) error {
		for next := range pending {
			chunk := <-next
			if chunk.err != nil {
				return fail("create "+what, chunk.err)
			}
			st, sctx, err := prepare(ctx, tx, query) // cancellation is checked a chunk at a time
			if err != nil {
				return fail("create "+what, err)
			}
			for _, args := range chunk.rows {
				res, err := st.ExecContext(sctx, args...)
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
			}
		}
		return ctx.Err() // cancelled, the encoder stops early: commit no partial batch
	})
}

type encoded struct {
	rows [][]any
	err  error
}

// encodeAhead encodes docs in chunks on other cores while the caller inserts — JSON costs as
// much as SQLite does — and hands the chunks over in order. Cancelling ctx stops it.
func encodeAhead[T any](ctx context.Context, docs []T, row func(T) ([]any, error)) <-chan chan encoded {
	const size = 1024
	pending := make(chan chan encoded, max(1, runtime.GOMAXPROCS(0)-1)) // bounds the work ahead
	go func() {
		defer close(pending)
		for i := 0; i < len(docs); i += size {
			part, next := docs[i:min(i+size, len(docs))], make(chan encoded, 1)
			select {
			case pending <- next:
			case <-ctx.Done():
				return
			}
			go func() {
				chunk := encoded{rows: make([][]any, 0, len(part))}
				for _, d := range part {
					args, err := row(d)
					if err != nil {
						chunk.err = err
						break
					}
					chunk.rows = append(chunk.rows, args)
				}
				next <- chunk
			}()
		}
	}()
	return pending
}

// BulkClaims creates claims in one transaction, all or none, for seeding benchmarks the way
// BulkCreateUsers seeds their users. A key already held fails the batch with ErrConflict.
func (s *Store) BulkClaims(ctx context.Context, claims []gdpr.Claim) error {
	return bulk(ctx, s, "claim", claims,
		`INSERT INTO claims (brand_id, key, owner, expires_at, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, claimRow)
}

func claimRow(c gdpr.Claim) ([]any, error) {
	doc, err := encode(c)
	return []any{c.BrandID, c.Key, c.Owner, nanos(c.ExpiresAt), doc}, err
}
