// Package triggers names the functions that the Functions host starts from a queue message or
// a timer, with the service method each one runs. The router serves them as host invocations
// (POST /{FunctionName}) and local mode feeds the same list from its embedded queue and
// scheduler, so both modes run one code path. Their function.json files live under functions/.
package triggers

import (
	"context"
	"encoding/json"
	"errors"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/jsondepth"
)

// Function names: the folders under functions/ and the paths the host POSTs to.
const (
	RetentionSweep = "RetentionSweep"
	ErasureWorker  = "ErasureWorker"
	MailSender     = "MailSender"
	LedgerSeal     = "LedgerSeal"
)

// Queue is a Service Bus-triggered function.
type Queue struct {
	Name, Queue, Binding string
	Handle               func(ctx context.Context, body []byte) error
	// HandleBatch, when set, takes many messages at once and answers for each; Handle is the
	// same with one. Local mode's consumer uses it: its single SQLite writer makes shared
	// writes what throughput rests on. The host delivers one message per invocation.
	HandleBatch func(ctx context.Context, bodies [][]byte) []error
}

// Timer is a timer-triggered function; its schedule lives in its function.json.
type Timer struct {
	Name, Binding string
	Run           func(ctx context.Context) error
}

// Set is every trigger of the handler.
type Set struct {
	Queues []Queue
	Timers []Timer
}

// New lists the triggers over the services that run them. Users and contacts share the daily
// sweep and the erasure queue, each kind run by its own service; the ledger's seal runs an
// hour after the sweep, once the day before has ended and its last appends have landed.
func New(erasure *gdpr.ErasureService, contacts *gdpr.ContactRetentionService, mail *gdpr.MailService, retention *gdpr.RetentionService,
	ledger *gdpr.LedgerService) Set {
	w := erasureWorker{users: erasure, contacts: contacts}
	return Set{
		Queues: []Queue{
			{ErasureWorker, gdpr.QueueErasure, "msg", w.handle, w.handleBatch},
			{MailSender, gdpr.QueueMail, "msg", mail.HandleMailJob, nil},
		},
		Timers: []Timer{
			{RetentionSweep, "timer", func(ctx context.Context) error {
				// Both run even if one fails: a brand whose users cannot be read still has its
				// contacts reviewed.
				return errors.Join(retention.RetentionSweep(ctx), contacts.Sweep(ctx))
			}},
			{LedgerSeal, "timer", ledger.SealDue},
		},
	}
}

// erasureWorker sends each erasure job to the service of its subject kind.
type erasureWorker struct {
	users    *gdpr.ErasureService
	contacts *gdpr.ContactRetentionService
}

func (w erasureWorker) handle(ctx context.Context, body []byte) error {
	return w.handleBatch(ctx, [][]byte{body})[0]
}

// handleBatch runs contact jobs one by one and the rest as one batch of the user erasure,
// answering in the order given. A body that does not parse goes to the user erasure, which
// refuses it with its usual error.
func (w erasureWorker) handleBatch(ctx context.Context, bodies [][]byte) []error {
	errs := make([]error, len(bodies))
	var (
		rest    [][]byte
		restIdx []int
	)
	for i, body := range bodies {
		var kind struct {
			SubjectKind gdpr.SubjectKind `json:"subjectKind"`
		}
		shallow := jsondepth.Check(body, gdpr.MaxJobDepth) == nil // else refused as a user job
		if shallow && json.Unmarshal(body, &kind) == nil && kind.SubjectKind == gdpr.SubjectContact {
			errs[i] = w.contacts.HandleErasureJob(ctx, body)
			continue
		}
		rest, restIdx = append(rest, body), append(restIdx, i)
	}
	if len(rest) > 0 {
		for j, err := range w.users.HandleErasureJobs(ctx, rest) {
			errs[restIdx[j]] = err
		}
	}
	return errs
}
