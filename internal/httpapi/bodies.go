package httpapi

import (
	"time"

	"popsell-gdpr/internal/gdpr"
)

// The bodies the routes take and answer that have no domain type of their own. Each is a
// named type so that the OpenAPI document (openapi.go) describes the very type a handler
// decodes or encodes.

type (
	emailRequest struct {
		Email string `json:"email"`
	}
	tokenRequest struct {
		Token string `json:"token"`
	}
	termsRequest struct {
		Version string `json:"version"`
	}
	blockRequest struct {
		Reason gdpr.BlockReason `json:"reason"`
	}
	memberActivityRequest struct {
		Kind gdpr.ActivityKind `json:"kind"`
	}
	contactActivityRequest struct {
		Kind gdpr.ContactActivityKind `json:"kind"`
	}
	answerRequest struct {
		Token  string `json:"token"`
		Answer string `json:"answer"`
	}
	testClockRequest struct {
		Now time.Time `json:"now"`
	}
)

type (
	statusAnswer struct {
		Status string `json:"status"`
	}
	acceptedAnswer struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	confirmedAnswer struct {
		Status   string `json:"status"`
		MemberID string `json:"memberId"`
	}
	termsAnswer struct {
		MemberID  string      `json:"memberId"`
		Terms     *gdpr.Terms `json:"terms"`
		CanSignIn bool        `json:"canSignIn"`
	}
	whitelistAnswer struct {
		Added int `json:"added"`
	}
	// The email status a release leaves: "ok" (gdpr.EmailOK is stored as empty).
	memberEmailStatusAnswer struct {
		ID          string `json:"id"`
		EmailStatus string `json:"emailStatus"`
	}
	contactEmailStatusAnswer struct {
		ContactID   string `json:"contactId"`
		EmailStatus string `json:"emailStatus"`
	}
	invitationAnswer struct {
		ContactID   string           `json:"contactId"`
		MemberOptIn gdpr.MemberOptIn `json:"memberOptIn"`
		Outcome     string           `json:"outcome"`
	}
	contactActivityAnswer struct {
		ContactID      string    `json:"contactId"`
		LastActivityAt time.Time `json:"lastActivityAt"`
	}
	pageAnswer struct {
		Status string `json:"status"`
		Answer string `json:"answer"`
	}
	memberContactsAnswer struct {
		Contacts []gdpr.ContactView `json:"contacts"`
	}
	brandContactsAnswer struct {
		Contacts []gdpr.ContactView `json:"contacts"`
		Next     string             `json:"next,omitempty"`
	}
	erasuresAnswer struct {
		Erasures []gdpr.ErasureRecord `json:"erasures"`
		Next     string               `json:"next,omitempty"`
	}
	sealsAnswer struct {
		Seals []sealView `json:"seals"`
	}
	restoreStatusAnswer struct {
		Pending bool                 `json:"pending"`
		Brands  []gdpr.RestoreStatus `json:"brands"`
	}
	replayAnswer struct {
		Replayed []gdpr.ReplayReport `json:"replayed"`
		Pending  bool                `json:"pending"`
	}
	dataMapAnswer struct {
		Tables   []gdpr.DataTable `json:"tables"`
		Purposes any              `json:"purposes"`
	}
	testClockAnswer struct {
		Now time.Time `json:"now"`
	}
	healthAnswer struct {
		Status  string            `json:"status"`
		Version string            `json:"version"`
		Checks  map[string]string `json:"checks,omitempty"`
	}
	deadLettersAnswer struct {
		Queue       string `json:"queue"`
		DeadLetters any    `json:"deadLetters"`
	}
	requeuedAnswer struct {
		Queue  string `json:"queue"`
		Ref    string `json:"ref"`
		Status string `json:"status"`
	}
	webhookReplayedAnswer struct {
		Outcome string `json:"outcome"`
	}
	blacklistRemovedAnswer struct {
		Removed bool                  `json:"removed"`
		Removal gdpr.BlacklistRemoval `json:"removal"`
	}
	blacklistRemovalsAnswer struct {
		Removals []gdpr.BlacklistRemoval `json:"removals"`
		Next     string                  `json:"next,omitempty"`
	}
	registerAnswer struct {
		Requests []requestView `json:"requests"`
		Next     string        `json:"next,omitempty"`
	}
)
