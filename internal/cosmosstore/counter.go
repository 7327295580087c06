package cosmosstore

import (
	"net/http"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// RequestKind is what a request to Cosmos DB does, as Azure bills it: a point read, a query
// page, a write of one document, a transactional batch, or the client's own metadata lookups
// (the account, a container), which it makes once and caches.
type RequestKind string

const (
	KindRead     RequestKind = "read"
	KindQuery    RequestKind = "query"
	KindCreate   RequestKind = "create"
	KindUpsert   RequestKind = "upsert"
	KindReplace  RequestKind = "replace"
	KindPatch    RequestKind = "patch"
	KindDelete   RequestKind = "delete"
	KindBatch    RequestKind = "batch"
	KindMetadata RequestKind = "metadata"
)

// RequestCounter counts every request the client sends, retries included (each one is
// charged), by kind: the honest measure of what an operation costs on Azure, where every
// request is request units. Give it to NewClientWithKey or NewClientWithCredential; it is
// safe for concurrent use and sees only methods and paths, never a body.
type RequestCounter struct {
	mu     sync.Mutex
	counts map[RequestKind]int
}

var _ policy.Policy = (*RequestCounter)(nil)

// Do counts req and passes it on. As a per-retry policy it runs once per attempt.
func (c *RequestCounter) Do(req *policy.Request) (*http.Response, error) {
	kind := kindOf(req.Raw())
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[RequestKind]int{}
	}
	c.counts[kind]++
	c.mu.Unlock()
	return req.Next()
}

// Take returns the counts since the last Take and starts counting afresh.
func (c *RequestCounter) Take() RequestCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := RequestCounts(c.counts)
	c.counts = nil
	if out == nil {
		out = RequestCounts{}
	}
	return out
}

// RequestCounts are requests by kind.
type RequestCounts map[RequestKind]int

// Documents is the requests on documents: every kind but the client's metadata lookups.
func (rc RequestCounts) Documents() int {
	n := 0
	for k, v := range rc {
		if k != KindMetadata {
			n += v
		}
	}
	return n
}

// Reads is the point reads and query pages; Writes the rest of Documents.
func (rc RequestCounts) Reads() int { return rc[KindRead] + rc[KindQuery] }

// Writes is the document writes, a transactional batch counted once.
func (rc RequestCounts) Writes() int { return rc.Documents() - rc.Reads() }

// kindOf classifies a request by its method, its path (…/docs or …/docs/{id}) and the headers
// Cosmos DB's REST API defines for queries, upserts and batches.
func kindOf(r *http.Request) RequestKind {
	path := strings.TrimSuffix(r.URL.Path, "/")
	collection := strings.HasSuffix(path, "/docs")
	item := strings.Contains(path, "/docs/")
	switch {
	case item && r.Method == http.MethodGet:
		return KindRead
	case item && r.Method == http.MethodPut:
		return KindReplace
	case item && r.Method == http.MethodPatch:
		return KindPatch
	case item && r.Method == http.MethodDelete:
		return KindDelete
	case collection && r.Method == http.MethodPost:
		switch {
		case strings.EqualFold(r.Header.Get("x-ms-cosmos-is-batch-request"), "true"):
			return KindBatch
		case strings.HasPrefix(r.Header.Get("Content-Type"), "application/query+json"):
			return KindQuery
		case strings.EqualFold(r.Header.Get("x-ms-documentdb-is-upsert"), "true"):
			return KindUpsert
		}
		return KindCreate
	}
	return KindMetadata
}
