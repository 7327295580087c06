package cosmosstore

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"popsell-gdpr/internal/gdpr"
)

// updateMany replaces docs, all of brand, each only if its version still matches, and
// returns them with their new versions in input order. Each chunk of gdpr.MaxBatch documents
// is one transactional batch on the brand's partition: it applies whole or not at all, and
// chunks before a failing one stay applied. The documents are written as update writes them
// (the same envelope builder). Every document is checked and encoded before anything is
// written: one of another brand is CodeInvalid and nothing is written (R-TEN-1).
func updateMany[T any](ctx context.Context, c *container, brand gdpr.BrandID, docs []T,
	envelopeOf func(T) (envelope, error), ver version[T]) ([]T, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	if _, err := brandKey(brand); err != nil {
		return nil, err
	}
	envs := make([]envelope, len(docs))
	bodies := make([][]byte, len(docs))
	etags := make([]string, len(docs))
	for i := range docs {
		env, err := envelopeOf(docs[i])
		if err != nil {
			return nil, err
		}
		if env.BrandID != string(brand) {
			return nil, gdpr.Errorf(gdpr.CodeInvalid, "cosmosstore: a document of another brand in a batch")
		}
		if bodies[i], err = encodeEnvelope(env); err != nil {
			return nil, err
		}
		envs[i], etags[i] = env, *ver(&docs[i])
	}

	out := make([]T, 0, len(docs))
	for start, chunk := 0, 0; start < len(docs); start, chunk = start+gdpr.MaxBatch, chunk+1 {
		end := min(start+gdpr.MaxBatch, len(docs))
		op := fmt.Sprintf("batch replace %s, chunk %d", c.ID(), chunk)
		written, err := replaceBatch(ctx, c, op, envs[start:end], bodies[start:end], etags[start:end])
		if err != nil {
			return nil, err
		}
		for i, etag := range written {
			v, err := decode(stored{Doc: envs[start+i].Doc, ETag: etag}, ver)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// replaceBatch replaces envs (at most gdpr.MaxBatch, all of one brand) in one transactional
// batch, each with If-Match on its etag, and returns their new etags.
func replaceBatch(ctx context.Context, c *container, op string, envs []envelope, bodies [][]byte, etags []string) ([]string, error) {
	for i, etag := range etags {
		if etag == "" {
			// As replaceItem: no version never matches. A batch operation without If-Match would
			// replace unconditionally, so the chunk fails here, having written nothing.
			return nil, unversioned(ctx, c, envs[i])
		}
	}
	batch := c.NewTransactionalBatch(pk(envs[0].BrandID))
	for i, env := range envs {
		etag := azcore.ETag(etags[i])
		batch.ReplaceItem(batchID(env.ID), bodies[i], &azcosmos.TransactionalBatchItemOptions{IfMatchETag: &etag})
	}
	resp, err := c.ExecuteTransactionalBatch(ctx, batch, nil)
	if err != nil {
		return nil, mapErr(op, err)
	}
	c.session.observe(resp.SessionToken)
	if !resp.Success {
		return nil, batchErr(op, resp.OperationResults)
	}
	if len(resp.OperationResults) != len(envs) {
		return nil, &gdpr.Error{Code: gdpr.CodeInternal, Message: fmt.Sprintf(
			"cosmosstore: %s: %d results for %d operations", op, len(resp.OperationResults), len(envs))}
	}
	out := make([]string, len(envs))
	for i, r := range resp.OperationResults {
		if out[i], err = newETag(r.ETag, r.ResourceBody); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// batchErr is the error of a batch that was rolled back: the status of its failing operation
// (412 stale version → conflict, 404 missing → not found) mapped as mapErr maps a single
// call's. Operation results carry no sub-status: a missing container fails the whole request
// (with its own 404/1003, through mapErr), so a 404 here is always the item. The others report 424 (failed dependency). The message names the operation's
// position only, never an id.
func batchErr(op string, results []azcosmos.TransactionalBatchResult) error {
	for i, r := range results {
		if r.StatusCode >= 400 && r.StatusCode != http.StatusFailedDependency {
			return &gdpr.Error{Code: codeOf(int(r.StatusCode), ""),
				Message: fmt.Sprintf("cosmosstore: %s: operation %d: status %d", op, i, r.StatusCode)}
		}
	}
	return &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: " + op + ": rolled back without a failing operation"}
}

// batchID is id as a batch operation must carry it. azcosmos v1.5.0 writes the id of Replace,
// Delete, Read and Patch operations into the request JSON verbatim ("id":"%s"), unescaped.
// validID already rules out '\\' and control characters, so '"' is the one character left
// to escape: unescaped, an id holding it would break the request or name another field.
// TestEmulatorUpdateUsersQuotedIDs fails if an SDK upgrade starts escaping ids itself.
func batchID(id string) string {
	return strings.ReplaceAll(id, `"`, `\"`)
}
