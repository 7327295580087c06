package cosmosstore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"popsell-gdpr/internal/gdpr"
)

// maxBatchBytes bounds the request body of one transactional batch. Cosmos DB refuses a batch
// whose payload exceeds 2 MB with 413, which mapErr can only call internal: 100 users with long
// descriptions would fail the brand's sweep every day. The bound leaves 100 KB under the
// stricter reading of 2 MB (2,000,000 bytes) for the request's headers and rounding.
const maxBatchBytes = 1_900_000

// updateMany replaces docs, all of brand, each only if its version still matches, and
// returns them with their new versions in input order. The documents go in consecutive
// chunks of at most gdpr.MaxBatch documents and maxBatchBytes of request (batchChunks), each
// one transactional batch on the brand's partition: a chunk applies whole or not at all, and
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
	sizes := make([]int, len(docs))
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
		sizes[i] = replaceOpSize(env.ID, etags[i], bodies[i])
	}

	out := make([]T, 0, len(docs))
	for chunk, r := range batchChunks(sizes, gdpr.MaxBatch, maxBatchBytes) {
		start, end := r[0], r[1]
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

// batchChunks splits operations of the given encoded sizes, in order, into consecutive
// [start, end) ranges of at most maxOps operations whose batch request body — the JSON array
// of the operations — is at most maxBytes. An operation too large for any batch on its own
// is a chunk alone, for Cosmos DB to accept or refuse.
func batchChunks(sizes []int, maxOps, maxBytes int) [][2]int {
	var out [][2]int
	start, body := 0, 2 // "[" and "]"
	for i, size := range sizes {
		n := i - start
		if n > 0 && (n == maxOps || body+1+size > maxBytes) { // 1: the comma before it
			out = append(out, [2]int{start, i})
			start, body = i, 2
			n = 0
		}
		if n > 0 {
			body++
		}
		body += size
	}
	if start < len(sizes) {
		out = append(out, [2]int{start, len(sizes)})
	}
	return out
}

// replaceOpSize is the encoded size of the Replace operation replaceBatch adds for a document,
// byte for byte as azcosmos v1.5.0 writes it into the batch request:
// {"operationType":"Replace","ifMatch":<etag as JSON>,"id":"<id>","resourceBody":<body>}.
// TestEmulatorBatchChunksBySize compares it with the bodies the SDK sends.
func replaceOpSize(id, etag string, body []byte) int {
	quoted, _ := json.Marshal(azcore.ETag(etag)) // a string always marshals
	return len(`{"operationType":"Replace","ifMatch":`) + len(quoted) +
		len(`,"id":"`) + len(batchID(id)) + len(`","resourceBody":`) + len(body) + len(`}`)
}

// replaceBatch replaces envs (one chunk of batchChunks, all of one brand) in one transactional
// batch, each with If-Match on its etag, and returns their new etags; a chunk of one is a
// plain conditional replace.
func replaceBatch(ctx context.Context, c *container, op string, envs []envelope, bodies [][]byte, etags []string) ([]string, error) {
	for i, etag := range etags {
		if etag == "" {
			// As replaceItem: no version never matches. A batch operation without If-Match would
			// replace unconditionally, so the chunk fails here, having written nothing.
			return nil, unversioned(ctx, c, envs[i])
		}
	}
	if len(envs) == 1 {
		// A batch of one groups nothing: a plain conditional replace is the same write, as
		// atomic, without the batch's overhead.
		resp, err := c.ReplaceItem(ctx, pk(envs[0].BrandID), envs[0].ID, bodies[0], ifMatch(etags[0]))
		if err != nil {
			return nil, mapErr(op, err)
		}
		c.session.observe(deref(resp.SessionToken))
		etag, err := writtenETag(resp)
		return []string{etag}, err
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
