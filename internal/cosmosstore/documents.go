package cosmosstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// envelope is the stored shape of every document. The domain struct travels whole in Doc;
// the top-level fields exist for Cosmos: id and partition key, and the few fields that are
// indexed or drive TTL.
//
//	{ "id": "...", "brandId": "...", "nextReviewAt": 1735689600000000, "memberId": "...",
//	  "ttl": 86400, "doc": { ...the domain struct... } }
type envelope struct {
	ID      string `json:"id"`
	BrandID string `json:"brandId"`
	// NextReviewAt is unix MICROseconds, a JSON number so the range index and "<=" compare
	// numbers. Cosmos numbers are IEEE doubles: nanoseconds (~1.8e18) would exceed 2^53 and
	// lose precision, microseconds stay exact until the year 2255. Absent when the domain
	// value is zero, so "never" is never due.
	NextReviewAt *int64 `json:"nextReviewAt,omitempty"`
	// MemberID is set on contacts only (ContactsOfMember).
	MemberID string `json:"memberId,omitempty"`
	// IdPKey is set on users with an IdPExternalID (SCIM's externalId): its idpKey digest,
	// indexed so UsersByIdPExternalID is one indexed query, while the id itself stays in
	// "doc", out of the index.
	IdPKey string `json:"idpKey,omitempty"`
	// Kind and SubjectID are set on requests only (ListRequests, RequestsOfSubject): a
	// request kind and a user id, no personal data.
	Kind      string `json:"kind,omitempty"`
	SubjectID string `json:"subjectId,omitempty"`
	// TTL is the per-item time to live in seconds, counted by Cosmos from the last write;
	// set on tokens and claims that expire.
	TTL *int32 `json:"ttl,omitempty"`
	// TokenDigest and Live are set on export records only: the digest of the link's token,
	// which a download looks up, and whether the export's file may still exist, which the
	// sweep reads.
	TokenDigest string          `json:"tokenDigest,omitempty"`
	Live        *bool           `json:"live,omitempty"`
	Doc         json.RawMessage `json:"doc"`
}

// stored is what point reads and queries return: the domain document and its version.
type stored struct {
	Doc  json.RawMessage `json:"doc"`
	ETag string          `json:"_etag"`
}

// Grace periods added to an item's domain expiry before Cosmos drops it. The domain decides
// expiry itself (tokens: CodeGone; claims: replaced once expired), so TTL is only garbage
// collection and must never fire first. Tokens linger a day so a late click says "expired"
// rather than "not found".
const (
	tokenTTLGrace = 24 * time.Hour
	claimTTLGrace = time.Hour
)

// reviewMicros maps a due time to the indexed number: floor of unix microseconds.
func reviewMicros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

// ttlSeconds is the ttl of an item that the domain considers expired at expires, written at
// domain time from. Cosmos counts the ttl from the real time of the write, so it is computed
// as a duration (expires - from), never against the wall clock: a test clock far from real
// time must not make a live item vanish. Nil when the item never expires.
func ttlSeconds(expires, from time.Time, grace time.Duration) *int32 {
	if expires.IsZero() {
		return nil
	}
	d := max(expires.Sub(from), 0) + grace
	s := int64(math.Ceil(d.Seconds()))
	s = min(max(s, 1), math.MaxInt32)
	v := int32(s)
	return &v
}

// validID reports an id that Cosmos accepts verbatim: non-empty, at most 255 characters, none
// of '/', '\\', '?', '#' (refused by Cosmos) and no control characters. Ids of users,
// contacts, erasures and brands are stored verbatim because they page in id order.
func validID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\?#`, r) {
			return false
		}
	}
	return true
}

// keyID maps a free-form key (claim key, digest, whitelist kind+digest) to a document id.
// Keys made only of [A-Za-z0-9:._=-] (digests "h1:<hex>", NewID ids) are kept verbatim, so
// documents stay readable in the portal; any other key, or one longer than 200 characters,
// becomes "~" + hex SHA-256 of the key. '~' is outside the verbatim set, so the two forms
// never collide. The key itself is kept inside the document.
func keyID(key string) string {
	if key != "" && len(key) <= 200 && verbatimKey(key) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "~" + hex.EncodeToString(sum[:])
}

func verbatimKey(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == ':' || c == '.' || c == '_' || c == '=' || c == '-':
		default:
			return false
		}
	}
	return true
}

func whitelistKey(kind gdpr.WhitelistKind, digest string) string {
	return string(kind) + ":" + digest
}

// Envelope builders: one per document kind, so the mapping is written (and tested) once.

func brandEnvelope(b gdpr.Brand) (envelope, error) {
	return wrap(string(b.ID), b.ID, b)
}

func userEnvelope(u gdpr.User) (envelope, error) {
	env, err := wrap(u.ID, u.BrandID, u)
	env.NextReviewAt = reviewMicros(u.NextReviewAt)
	env.IdPKey = idpKey(u.BrandID, u.IdPExternalID)
	return env, err
}

// idpKey is what the users' index holds of an IdPExternalID: a SHA-256 of the brand and the
// id, so that the index never holds the id in clear (the container indexes no path of
// "doc"). Once erased, the document's IdPExternalID is a keyed digest (R-ERASE-4), and so
// idpKey is a digest of that. "" for no id: nothing to index.
func idpKey(brand gdpr.BrandID, id string) string {
	if id == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(brand))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil))
}

func contactEnvelope(c gdpr.Contact) (envelope, error) {
	env, err := wrap(c.ID, c.BrandID, c)
	env.NextReviewAt = reviewMicros(c.NextReviewAt)
	env.MemberID = c.MemberID
	return env, err
}

func claimEnvelope(c gdpr.Claim) (envelope, error) {
	env, err := wrap(keyID(c.Key), c.BrandID, c)
	env.TTL = ttlSeconds(c.ExpiresAt, c.CreatedAt, claimTTLGrace)
	return env, err
}

func tokenEnvelope(t gdpr.Token) (envelope, error) {
	env, err := wrap(keyID(t.Digest), t.BrandID, t)
	from := t.CreatedAt
	if t.UsedAt.After(from) {
		from = t.UsedAt // a replace restarts the ttl clock: count from the latest domain time
	}
	env.TTL = ttlSeconds(t.ExpiresAt, from, tokenTTLGrace)
	return env, err
}

func blacklistEnvelope(e gdpr.BlacklistEntry) (envelope, error) {
	return wrap(keyID(e.Digest), e.BrandID, e)
}

func removalEnvelope(r gdpr.BlacklistRemoval) (envelope, error) {
	return wrap(r.ID, r.BrandID, r)
}

func softBounceEnvelope(st gdpr.SoftBounceStreak) (envelope, error) {
	return wrap(keyID(st.Digest), st.BrandID, st)
}

func whitelistEnvelope(e gdpr.WhitelistEntry) (envelope, error) {
	return wrap(keyID(whitelistKey(e.Kind, e.Digest)), e.BrandID, e)
}

func erasureEnvelope(r gdpr.ErasureRecord) (envelope, error) {
	return wrap(r.ID, r.BrandID, r)
}

func requestEnvelope(r gdpr.Request) (envelope, error) {
	env, err := wrap(r.ID, r.BrandID, r)
	env.Kind, env.SubjectID = string(r.Kind), r.SubjectID
	return env, err
}

// exportEnvelope keys an export record by its request id, whose shape the domain checks
// (letters, digits, '-' and '_': a valid Cosmos id).
func exportEnvelope(e gdpr.ExportRecord) (envelope, error) {
	env, err := wrap(e.RequestID, e.BrandID, e)
	live := e.Status != gdpr.ExportDeleted
	env.TokenDigest, env.Live = e.TokenDigest, &live
	return env, err
}

func wrap(id string, brand gdpr.BrandID, v any) (envelope, error) {
	if brand == "" {
		return envelope{}, gdpr.Errorf(gdpr.CodeInvalid, "cosmosstore: brand id is required")
	}
	if !validID(id) {
		return envelope{}, gdpr.Errorf(gdpr.CodeInvalid, "cosmosstore: id must be 1-255 characters without '/', '\\', '?', '#' or control characters")
	}
	doc, err := json.Marshal(v)
	if err != nil {
		return envelope{}, &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: encode document", Err: err}
	}
	return envelope{ID: id, BrandID: string(brand), Doc: doc}, nil
}

// unwrap decodes a stored document into its domain struct.
func unwrap[T any](raw json.RawMessage) (T, error) {
	var v T
	if len(raw) == 0 {
		return v, &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: document has no doc field"}
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, &gdpr.Error{Code: gdpr.CodeInternal, Message: "cosmosstore: decode document", Err: err}
	}
	return v, nil
}
