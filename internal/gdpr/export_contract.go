package gdpr

import (
	"context"
	"time"
)

// The contract between data-subject requests (rights_*.go) and the exports that answer them
// (export_*.go): a request asks for an export, the export service produces it and hands back
// the download (R-RIGHTS-1, R-ACCESS-3).

// ExportScope says what an export carries.
type ExportScope string

const (
	// ExportSubject is one subject's data: an access or portability request (Art. 15, 20).
	ExportSubject ExportScope = "subject"
	// ExportBrand is many subjects' data handed to the brand, after two approvals
	// (R-ACCESS-1, R-ACCESS-3).
	ExportBrand ExportScope = "brand"
)

// ExportJob asks for the export that answers one request.
type ExportJob struct {
	Brand     BrandID
	RequestID string // one export per request: producing it again is the same export
	Scope     ExportScope
	SubjectID string // the user's id, for ExportSubject; empty for ExportBrand
}

// Download is where an export can be fetched, and until when.
type Download struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// RequestSummary is one data-subject request as a subject's own export shows it.
type RequestSummary struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Status      string    `json:"status"`
	ReceivedAt  time.Time `json:"receivedAt"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
}

// SubjectRequestHistory lists the data-subject requests about one subject, oldest first.
type SubjectRequestHistory interface {
	SubjectRequests(ctx context.Context, brand BrandID, subjectID string) ([]RequestSummary, error)
}
