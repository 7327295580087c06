package gdpr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"popsell-gdpr/internal/jsondepth"
)

// MailJob asks the mail sender to render and send one mail. It names the recipient by id: the
// address is resolved at send time, so a job queued before an erasure finds no address after
// it, and no queue or dead letter ever holds personal data.
type MailJob struct {
	// ID is the queue message's id, so the sender can send a job once however often the queue
	// delivers it. Jobs queued before it existed have none.
	ID      string   `json:"id,omitempty"`
	BrandID BrandID  `json:"brandId"`
	Kind    MailKind `json:"kind"`
	UserID  string   `json:"userId"`
	// ContactID is the contact an invitation goes to; UserID is then its Member.
	ContactID string `json:"contactId,omitempty"`
	// Mark is the inactivity mark a warning is about (R-RET-1).
	Mark time.Time `json:"mark,omitzero"`
}

// ErasureJob asks the erasure worker to erase one subject once it is due. The worker re-reads
// the subject and re-decides, so a stale job (restored, logged in) does nothing.
type ErasureJob struct {
	BrandID     BrandID     `json:"brandId"`
	SubjectKind SubjectKind `json:"subjectKind"`
	SubjectID   string      `json:"subjectId"`
	Rule        string      `json:"rule"`
	DueAt       time.Time   `json:"dueAt"`
	// After continues a brand-wide fan-out after this user id (R-ERASE-7).
	After string `json:"after,omitempty"`
}

// mailMessage is the queue message of a mail job; id deduplicates it.
func mailMessage(job MailJob, id string) (Message, error) {
	job.ID = id
	body, err := json.Marshal(job)
	if err != nil {
		return Message{}, err
	}
	return Message{ID: id, Body: body}, nil
}

// MaxJobDepth bounds how deeply a queue message nests: jobs are flat objects, 1 level, and a
// deeper message is refused before it is decoded (issue 24).
const MaxJobDepth = 8

// decodeJob reads a queue message strictly: unknown fields are refused, so a message from a
// newer or foreign producer is noticed instead of half-applied.
func decodeJob(body []byte, v any) error {
	if jsondepth.Check(body, MaxJobDepth) != nil {
		return Errorf(CodeInvalid, "job message nested deeper than %d levels", MaxJobDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(CodeInvalid, "malformed job message")
	}
	return nil
}

func (j MailJob) validate() error {
	if !j.BrandID.Valid() || j.UserID == "" || len(j.UserID) > 64 || len(j.ID) > 200 {
		return Errorf(CodeInvalid, "mail job needs brandId and userId")
	}
	switch j.Kind {
	case MailSignupConfirmation, MailAccountExists, MailInactivityWarning, MailProgramSuspended:
		return nil
	case MailContactInvitation:
		if j.ContactID == "" || len(j.ContactID) > 64 {
			return Errorf(CodeInvalid, "an invitation job needs contactId")
		}
		return nil
	}
	return Errorf(CodeInvalid, "mail job has an unknown kind")
}

func (j ErasureJob) validate() error {
	if !j.BrandID.Valid() || j.SubjectID == "" || len(j.SubjectID) > 64 || !j.SubjectKind.Valid() {
		return Errorf(CodeInvalid, "erasure job needs brandId, subjectKind and subjectId")
	}
	return nil
}

// publishErasure schedules an erasure job at its due time. The message id is fixed by the
// subject, the rule and the request time, so publishing it twice (a sweep after a block, a
// retried request) queues it once.
func publishErasure(ctx context.Context, q Queue, job ErasureJob, requestedAt time.Time) (string, error) {
	m, err := erasureMessage(job, requestedAt)
	if err != nil {
		return "", err
	}
	return q.Publish(ctx, QueueErasure, m)
}

func erasureMessage(job ErasureJob, requestedAt time.Time) (Message, error) {
	body, err := json.Marshal(job)
	if err != nil {
		return Message{}, err
	}
	id := fmt.Sprintf("erase:%s:%s:%s:%d:%s", job.BrandID, job.SubjectID, job.Rule, requestedAt.UnixNano(), job.After)
	return Message{ID: id, Body: body, NotBefore: job.DueAt}, nil
}
