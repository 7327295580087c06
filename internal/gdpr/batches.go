package gdpr

import (
	"context"
	"errors"
	"slices"
)

// The sweeps (users, contacts, a suspended program's warnings) write what they decide for a
// page of documents at once: one publish per queue, and the documents in batches.

// publishAll publishes a sweep's jobs for one queue in one batch, if any.
func publishAll(ctx context.Context, q Queue, queue string, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	_, err := q.PublishBatch(ctx, queue, msgs)
	return err
}

// writeInBatches writes a sweep's records in batches of MaxBatch. A batch that meets a
// concurrent change (a login, an answer, a block) falls back to one write per document,
// skipping the changed ones: the next sweep decides for them again.
func writeInBatches[T any](docs []T, batch func([]T) error, one func(T) error) error {
	skipped := func(err error) bool { return errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) }
	for chunk := range slices.Chunk(docs, MaxBatch) {
		err := batch(chunk)
		if !skipped(err) {
			if err != nil {
				return err
			}
			continue
		}
		for _, d := range chunk {
			if err := one(d); err != nil && !skipped(err) {
				return err
			}
		}
	}
	return nil
}
