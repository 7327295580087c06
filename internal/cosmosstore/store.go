// Package cosmosstore implements the domain's store ports on Azure Cosmos DB for NoSQL (azcosmos).
//
// Every container is partitioned by /brandId and every call but ListBrands is a point
// operation or a single-partition query on the caller's brand (R-TEN-1). Queries are
// parameterised only (R-OPS-5) and avoid what the gateway the Go SDK talks to refuses:
// no cross-partition ORDER BY, TOP/LIMIT or aggregates. Versions are the documents' _etag;
// updates are ReplaceItem with If-Match, and batch updates (UpdateUsers, UpdateContacts) the
// same operations in one transactional batch per chunk on the brand's partition, a chunk being
// at most gdpr.MaxBatch documents and at most maxBatchBytes of request.
//
// Documents are envelopes (see envelope): {id, brandId, nextReviewAt?, memberId?, ttl?, doc}.
//
// Reads and queries carry the session token of the Store's earlier calls on their container,
// so that a process reads its own writes under Session consistency (see container).
//
// The schema (Containers) is created by Bicep in Azure and by EnsureSchema on the emulator. In
// Azure, call Store.Verify at start and refuse to start on error: Cosmos DB answers 404 for a
// missing container as for a missing item, and nothing else would notice a misnamed one.
package cosmosstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"popsell-gdpr/internal/gdpr"
)

// Store keeps the domain's documents in one Cosmos database. It is safe for concurrent use.
type Store struct {
	client   *azcosmos.Client
	database string

	// Each container keeps the session token of this Store's calls on it (see container).
	brands, users, contacts, claims, blacklist, whitelist, tokens, erasures, requests, exports, removals, softBounces *container
}

// The domain's store ports, all served by one Store (internal/storetest proves each).
var _ gdpr.Store = (*Store)(nil)

// NewClientWithKey builds a client authenticated by an account key: for the emulator and
// tests. Azure deployments disable local (key) auth and use NewClientWithCredential.
//
// Against the emulator, call it only once the endpoint answers GET /: the SDK caches the
// account lookup of its first call, a failed one included.
//
// perRequest policies see every request sent, retries included (a RequestCounter).
func NewClientWithKey(endpoint, key string, perRequest ...policy.Policy) (*azcosmos.Client, error) {
	cred, err := azcosmos.NewKeyCredential(key)
	if err != nil {
		return nil, fmt.Errorf("cosmosstore: account key: %w", err)
	}
	return azcosmos.NewClientWithKey(endpoint, cred, clientOptions(perRequest...))
}

// NewClientWithCredential builds a client authenticated by Microsoft Entra ID, e.g. the
// Function App's managed identity. The config layer chooses the azidentity credential.
func NewClientWithCredential(endpoint string, cred azcore.TokenCredential, perRequest ...policy.Policy) (*azcosmos.Client, error) {
	return azcosmos.NewClient(endpoint, cred, clientOptions(perRequest...))
}

// retryOptions is azcore's retry budget, which for Cosmos DB is in effect the budget for
// throttling (429): azcosmos's own policy handles 408, 503 and the other 5xx first (another
// region, or one more try) and marks them not retriable when it gives up. azcore gives up on
// 429 after 3 retries by default: a brand whose partition is throttled for a few seconds then
// fails every call, and the Service Bus trigger, which has no retry policy of its own, burns
// the erasure job's deliveries in seconds. Cosmos DB's own SDKs retry throttling 9 times; so
// does this one. A 429 says how long to wait (x-ms-retry-after-ms), which azcore honours up to
// MaxRetryDelay and gives up beyond it; without that header the delays grow from RetryDelay,
// about 90 s in all at worst, within a Service Bus message lock (renewed by the host for 5
// minutes) and the host's HTTP timeout (230 s). What still fails is CodeUnavailable (codeOf),
// for the caller to back off.
var retryOptions = policy.RetryOptions{
	MaxRetries:    9,
	RetryDelay:    500 * time.Millisecond,
	MaxRetryDelay: 15 * time.Second,
}

func clientOptions(perRequest ...policy.Policy) *azcosmos.ClientOptions {
	return &azcosmos.ClientOptions{
		ClientOptions: policy.ClientOptions{
			Telemetry:        policy.TelemetryOptions{ApplicationID: "popsell-gdpr"},
			Retry:            retryOptions,
			PerRetryPolicies: perRequest,
		},
	}
}

// New returns a Store on database. It makes no call: in Azure the database and containers
// exist already (Bicep), and Verify checks them; elsewhere call EnsureSchema first.
func New(client *azcosmos.Client, database string) (*Store, error) {
	if client == nil || database == "" {
		return nil, errors.New("cosmosstore: client and database are required")
	}
	s := &Store{client: client, database: database}
	for _, c := range []struct {
		name string
		dst  **container
	}{
		{ContainerBrands, &s.brands}, {ContainerUsers, &s.users}, {ContainerContacts, &s.contacts},
		{ContainerClaims, &s.claims}, {ContainerBlacklist, &s.blacklist}, {ContainerWhitelist, &s.whitelist},
		{ContainerTokens, &s.tokens}, {ContainerErasures, &s.erasures},
		{ContainerRequests, &s.requests}, {ContainerExports, &s.exports},
		{ContainerBlacklistRemovals, &s.removals}, {ContainerSoftBounces, &s.softBounces},
	} {
		cc, err := client.NewContainer(database, c.name)
		if err != nil {
			return nil, fmt.Errorf("cosmosstore: container %s: %w", c.name, err)
		}
		*c.dst = &container{ContainerClient: cc}
	}
	return s, nil
}

// EnsureSchema creates the database and every container of Containers that does not exist,
// and checks the partition key of those that do. It is for the emulator and tests only: in
// Azure, Bicep creates them and the Function App's identity holds data-plane rights only
// (creating a database or container is a control-plane operation and is refused), so the
// Azure wiring must never call it.
func (s *Store) EnsureSchema(ctx context.Context) error {
	if _, err := s.client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: s.database}, nil); err != nil && statusOf(err) != http.StatusConflict {
		return mapErr("create database", err)
	}
	db, err := s.client.NewDatabase(s.database)
	if err != nil {
		return fmt.Errorf("cosmosstore: database: %w", err)
	}
	for _, spec := range Containers {
		_, err := db.CreateContainer(ctx, spec.Properties(), nil)
		if err == nil {
			continue
		}
		if statusOf(err) != http.StatusConflict {
			return mapErr("create container "+spec.Name, err)
		}
		cc, err := db.NewContainer(spec.Name)
		if err != nil {
			return fmt.Errorf("cosmosstore: container %s: %w", spec.Name, err)
		}
		resp, err := cc.Read(ctx, nil)
		if err != nil {
			return mapErr("read container "+spec.Name, err)
		}
		if p := resp.ContainerProperties; p != nil && (len(p.PartitionKeyDefinition.Paths) != 1 || p.PartitionKeyDefinition.Paths[0] != spec.PartitionKey) {
			return fmt.Errorf("cosmosstore: container %s exists with partition key %v, want %s", spec.Name, p.PartitionKeyDefinition.Paths, spec.PartitionKey)
		}
	}
	return nil
}

// ---- errors ----

func statusOf(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// headerSessionToken carries the session token of a response (see container).
const headerSessionToken = "x-ms-session-token"

// headerSubStatus is the header in which Cosmos DB qualifies an error status.
const headerSubStatus = "x-ms-substatus"

// Sub-statuses of a 404 (Cosmos DB's status code reference). The same numbers mean other things
// under other statuses (1002 under 410 is a partition split), so they are read with the status.
const (
	subStatusNone                    = "0"    // the item itself does not exist
	subStatusReadSessionNotAvailable = "1002" // the replica has not caught up with the session token sent
	subStatusOwnerResourceNotFound   = "1003" // the database or container does not exist
	subStatusCollectionCreating      = "1013" // the container is still being created
	subStatusIncorrectContainerRID   = "1024" // the container was deleted and recreated; caches are stale
)

// subStatusOf is the x-ms-substatus of the response behind err, "" when there is none.
func subStatusOf(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.RawResponse != nil {
		return re.RawResponse.Header.Get(headerSubStatus)
	}
	return ""
}

// mapErr turns an SDK error into a *gdpr.Error: a 404 on a missing item → CodeNotFound,
// 409/412 → CodeConflict (both match the store sentinels), throttling (429 once the SDK's
// retries are spent), timeouts, 5xx and transport failures → CodeUnavailable, anything else
// (400 from a bad query, 401/403 from a wrong role assignment, a missing database or
// container) → CodeInternal. The message names the operation only, never an id or value;
// the SDK error stays as the cause for logs.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ge *gdpr.Error
	if errors.As(err, &ge) {
		return err
	}
	status, sub := statusOf(err), subStatusOf(err)
	msg := "cosmosstore: " + op
	switch {
	case status == http.StatusNotFound && sub == subStatusOwnerResourceNotFound:
		msg = fmt.Sprintf("%s: status %d/%s: the database or container does not exist", msg, status, sub)
	case status != 0 && sub != "" && sub != subStatusNone:
		msg = fmt.Sprintf("%s: status %d/%s", msg, status, sub)
	case status != 0:
		msg = fmt.Sprintf("%s: status %d", msg, status)
	}
	return &gdpr.Error{Code: codeOf(status, sub), Message: msg, Err: err}
}

// codeOf is mapErr's mapping of an HTTP status and its sub-status (x-ms-substatus, "" when
// absent), also applied to the status of the failing operation of a transactional batch.
// Status 0 is a transport failure.
//
// Only a 404 about the item itself is CodeNotFound. Cosmos DB also answers 404 when the
// database or container is missing (sub-status 1003): taken for "no such item", a misnamed
// container would make the erasure worker find nothing to erase and complete its jobs, so
// that is CodeInternal, as is any sub-status this code does not know. The transient 404s
// (a replica behind the session token, a container being created or recreated) are
// CodeUnavailable: retrying may find the item.
func codeOf(status int, subStatus string) gdpr.Code {
	switch {
	case status == 0: // transport errors, cancelled or expired contexts
		return gdpr.CodeUnavailable
	case status == http.StatusNotFound:
		switch subStatus {
		case "", subStatusNone:
			return gdpr.CodeNotFound
		case subStatusReadSessionNotAvailable, subStatusCollectionCreating, subStatusIncorrectContainerRID:
			return gdpr.CodeUnavailable
		default:
			return gdpr.CodeInternal
		}
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return gdpr.CodeConflict
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status == http.StatusGone, status >= 500:
		return gdpr.CodeUnavailable
	default:
		return gdpr.CodeInternal
	}
}

func conflict(msg string) error {
	return &gdpr.Error{Code: gdpr.CodeConflict, Message: "cosmosstore: " + msg}
}

func notFound() error {
	return &gdpr.Error{Code: gdpr.CodeNotFound, Message: "cosmosstore: not found"}
}

// ---- item operations ----

func pk(brand string) azcosmos.PartitionKey { return azcosmos.NewPartitionKeyString(brand) }

func ifMatch(etag string) *azcosmos.ItemOptions {
	e := azcore.ETag(etag)
	return &azcosmos.ItemOptions{IfMatchEtag: &e}
}

// writtenETag is the new version after a write: the ETag header, else the body's _etag.
func writtenETag(resp azcosmos.ItemResponse) (string, error) {
	return newETag(resp.ETag, resp.Value)
}

// newETag is the new version after a write, from its ETag, else from the _etag of the body
// returned.
func newETag(etag azcore.ETag, body []byte) (string, error) {
	if etag != "" {
		return string(etag), nil
	}
	var st stored
	if len(body) > 0 && json.Unmarshal(body, &st) == nil && st.ETag != "" {
		return st.ETag, nil
	}
	return "", &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: write returned no etag"}
}

// encodeEnvelope is the request body of a write of env.
func encodeEnvelope(env envelope) ([]byte, error) {
	body, err := json.Marshal(env)
	if err != nil {
		return nil, &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: encode envelope", Err: err}
	}
	return body, nil
}

func createItem(ctx context.Context, c *container, env envelope) (string, error) {
	body, err := encodeEnvelope(env)
	if err != nil {
		return "", err
	}
	resp, err := c.CreateItem(ctx, pk(env.BrandID), body, nil)
	if err != nil {
		return "", mapErr("create "+c.ID(), err)
	}
	c.session.observe(deref(resp.SessionToken))
	return writtenETag(resp)
}

// replaceItem replaces env if its stored _etag is still etag. An empty etag is never a
// match: it is a conflict when the document exists, ErrNotFound when it does not.
func replaceItem(ctx context.Context, c *container, env envelope, etag string) (string, error) {
	if etag == "" {
		return "", unversioned(ctx, c, env)
	}
	body, err := encodeEnvelope(env)
	if err != nil {
		return "", err
	}
	resp, err := c.ReplaceItem(ctx, pk(env.BrandID), env.ID, body, ifMatch(etag))
	if err != nil {
		return "", mapErr("replace "+c.ID(), err)
	}
	c.session.observe(deref(resp.SessionToken))
	return writtenETag(resp)
}

// unversioned is the error of an update of env without a version: ErrNotFound when the
// document does not exist, else a conflict.
func unversioned(ctx context.Context, c *container, env envelope) error {
	if _, err := readItem(ctx, c, env.BrandID, env.ID); err != nil {
		return err
	}
	return conflict("update without a version")
}

func readItem(ctx context.Context, c *container, brand, id string) (stored, error) {
	if brand == "" || !validID(id) {
		return stored{}, notFound() // no such document can exist
	}
	resp, err := c.ReadItem(ctx, pk(brand), id, &azcosmos.ItemOptions{SessionToken: c.session.get()})
	if err != nil {
		return stored{}, mapErr("read "+c.ID(), err)
	}
	c.session.observe(deref(resp.SessionToken)) // later reads never go back in time
	var st stored
	if err := json.Unmarshal(resp.Value, &st); err != nil {
		return stored{}, &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: decode envelope", Err: err}
	}
	if st.ETag == "" {
		st.ETag = string(resp.ETag)
	}
	return st, nil
}

func deleteItem(ctx context.Context, c *container, brand, id, etag string) error {
	resp, err := c.DeleteItem(ctx, pk(brand), id, ifMatch(etag))
	if err != nil {
		return mapErr("delete "+c.ID(), err)
	}
	c.session.observe(deref(resp.SessionToken))
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// query runs a parameterised query on the partition key and hands each result to each until
// it returns false. Pages are read lazily, so a caller that stops early stops reading.
func query(ctx context.Context, c *container, key azcosmos.PartitionKey, q string, params []azcosmos.QueryParameter, pageSize int, each func(stored) (bool, error)) error {
	opts := &azcosmos.QueryOptions{QueryParameters: params, PageSizeHint: int32(min(max(pageSize, 1), 1000)),
		SessionToken: c.session.get()}
	pager := c.NewQueryItemsPager(q, key, opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return mapErr("query "+c.ID(), err)
		}
		if page.RawResponse != nil {
			c.session.observe(page.RawResponse.Header.Get(headerSessionToken))
		}
		for _, item := range page.Items {
			var st stored
			if err := json.Unmarshal(item, &st); err != nil {
				return &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: decode query result", Err: err}
			}
			more, err := each(st)
			if err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// ---- typed helpers ----

// version points at a domain struct's Version field; nil for records without one.
type version[T any] func(*T) *string

func decode[T any](st stored, ver version[T]) (T, error) {
	v, err := unwrap[T](st.Doc)
	if err == nil && ver != nil {
		*ver(&v) = st.ETag
	}
	return v, err
}

// create writes env and returns the document as a Get would read it back.
func create[T any](ctx context.Context, c *container, env envelope, ver version[T]) (T, error) {
	etag, err := createItem(ctx, c, env)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode(stored{Doc: env.Doc, ETag: etag}, ver)
}

func update[T any](ctx context.Context, c *container, env envelope, etag string, ver version[T]) (T, error) {
	etag, err := replaceItem(ctx, c, env, etag)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode(stored{Doc: env.Doc, ETag: etag}, ver)
}

func get[T any](ctx context.Context, c *container, brand gdpr.BrandID, id string, ver version[T]) (T, error) {
	st, err := readItem(ctx, c, string(brand), id)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode(st, ver)
}

// brandKey is the partition of one brand. An empty brand is refused: with no partition key
// the SDK would run the query across every brand (R-TEN-1).
func brandKey(brand gdpr.BrandID) (azcosmos.PartitionKey, error) {
	if brand == "" {
		return azcosmos.PartitionKey{}, gdpr.Errorf(gdpr.CodeInvalid, "cosmosstore: brand id is required")
	}
	return pk(string(brand)), nil
}

// list collects up to limit documents of one brand (limit < 0: all) that keep accepts (nil:
// all).
func list[T any](ctx context.Context, c *container, brand gdpr.BrandID, q string, params []azcosmos.QueryParameter, limit int, keep func(T) bool, ver version[T]) ([]T, error) {
	key, err := brandKey(brand)
	if err != nil {
		return nil, err
	}
	return collect(ctx, c, key, q, params, limit, keep, ver)
}

func collect[T any](ctx context.Context, c *container, key azcosmos.PartitionKey, q string, params []azcosmos.QueryParameter, limit int, keep func(T) bool, ver version[T]) ([]T, error) {
	out := []T{}
	if limit == 0 {
		return out, nil
	}
	pageSize := limit
	if limit < 0 {
		pageSize = 1000
	}
	err := query(ctx, c, key, q, params, pageSize, func(st stored) (bool, error) {
		v, err := decode(st, ver)
		if err != nil {
			return false, err
		}
		if keep == nil || keep(v) {
			out = append(out, v)
		}
		return limit < 0 || len(out) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
