package gdpr

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"strings"
	"time"
)

// An export's record: where its file is, its link, until when and how often it may be
// downloaded (R-ACCESS-3). It holds ids, times and a digest, never personal data, and
// outlives its file: a link whose file is gone answers 410, not 404.

// ExportStatus is where an export's file stands.
type ExportStatus string

const (
	// ExportProducing: the file is being written; a Produce that finds it writes it again
	// (the same key), so a producer that died is taken over by the queue's next delivery.
	ExportProducing ExportStatus = "producing"
	ExportReady     ExportStatus = "ready"
	// ExportDeleted: the file is deleted, for the reason DeletedBecause names.
	ExportDeleted ExportStatus = "deleted"
)

// Why an export's file was deleted.
const (
	ExportExpired       = "expired"        // its link's time ran out (R-ACCESS-3)
	ExportSubjectErased = "subject_erased" // its subject was erased: erased means gone
	ExportAbandoned     = "abandoned"      // its producer never finished
	ExportBrandEnded    = "brand_ended"    // the brand's contract ended (R-ERASE-7)
)

// MaxExportDownloads is how many times an export's link serves its file.
const MaxExportDownloads = 3

// MaxExportLink is the longest an export's link lives, and its file with it: the guide's
// "storage limited in time (maximum 48 hours)" (R-ACCESS-3). A brand may choose shorter
// (Retention.ExportLink), at least MinExportLink.
var (
	MaxExportLink = Period{Exact: 48 * time.Hour}
	MinExportLink = Period{Exact: time.Hour}
)

// ExportRecord is one export's record, keyed by the request it answers.
type ExportRecord struct {
	BrandID   BrandID     `json:"brandId"`
	RequestID string      `json:"requestId"`
	Scope     ExportScope `json:"scope"`
	SubjectID string      `json:"subjectId,omitempty"`
	// ExportID is random; the link's token is derived from it and the hash key (exportToken),
	// so the service can show the link again while a copy of the database cannot make it.
	ExportID    string       `json:"exportId"`
	BlobKey     string       `json:"blobKey"`
	TokenDigest string       `json:"tokenDigest"`
	Status      ExportStatus `json:"status"`
	CreatedAt   time.Time    `json:"createdAt"`
	ReadyAt     time.Time    `json:"readyAt,omitzero"`
	ExpiresAt   time.Time    `json:"expiresAt,omitzero"`
	Downloads   int          `json:"downloads"`
	DeletedAt   time.Time    `json:"deletedAt,omitzero"`
	// DeletedBecause is one of ExportExpired, ExportSubjectErased, ExportAbandoned,
	// ExportBrandEnded.
	DeletedBecause string `json:"deletedBecause,omitempty"`
	Version        string `json:"-"`
}

// ExportFiles is where export files live: a container (a folder in local mode) of their own,
// whose lifecycle rule deletes what the service did not (R-ACCESS-3). Written and read as
// streams, so an export of any size never sits in memory.
type ExportFiles interface {
	PutStream(ctx context.Context, key string, r io.Reader, contentType string) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes a file; a missing one is success.
	Delete(ctx context.Context, key string) error
}

// MemberFiles reads the files the platform keeps for its members (photos, UGC), which a
// subject's export carries.
type MemberFiles interface {
	// Open returns a reader of the blob; an error matching ErrNotFound when none is stored.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// exportRequestID is what a request id must be to key an export record and name a file.
func exportRequestID(s string) bool { return safeID(s, 64) }

// newExportID is 128 random bits, hex.
func newExportID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("gdpr: crypto/rand failed")
	}
	return "ex_" + hex.EncodeToString(b[:])
}

// exportToken is the link's token: 256 bits of HMAC under a version of the deployment's hash
// key (the newest when the export is recorded) over the brand and the random export id. Only
// its digest is stored (like every link's token), under the same version, and the export id
// beside it is no use without the key, which is never stored with the data (R-ERASE-4); the
// service, which holds the key, can make the same link again for the request's GET. A key
// rotation leaves a live link working while its version is active, since the version is read
// from the stored digest; retiring that version ends the link (it then finds nothing, 404),
// which is why the rotation runbook waits out MaxExportLink before a retirement. ok is false
// when version is not active.
func (c *core) exportToken(brand BrandID, exportID, version string) (token string, ok bool) {
	d, ok := c.hasher.DigestUnder(version, "export-link|"+string(brand)+"|"+exportID)
	if !ok || c.hasher.Retired(version) {
		return "", false
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(d, version+":"))
	if err != nil {
		panic("gdpr: digest is not hex")
	}
	return base64.RawURLEncoding.EncodeToString(raw), true
}

// exportTokenDigests are the forms a link's token may be stored in, one per active hash-key
// version, newest first: keyed, and apart from every other digest. With one version, one.
func (c *core) exportTokenDigests(token string) []string {
	return c.hasher.Digests("export-token|" + token)
}

// exportTokenVersion is the key version an export's token and its digest were made under.
func (c *core) exportTokenVersion(rec ExportRecord) string {
	version, _, _ := strings.Cut(rec.TokenDigest, ":")
	return version
}
