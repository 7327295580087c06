// Package triggers names the functions that the Functions host starts from a queue message or
// a timer, with the service method each one runs. The router serves them as host invocations
// (POST /{FunctionName}) and local mode feeds the same list from its embedded queue and
// scheduler, so both modes run one code path. Their function.json files live under functions/.
package triggers

import (
	"context"

	"popsell-gdpr/internal/gdpr"
)

// Function names: the folders under functions/ and the paths the host POSTs to.
const (
	RetentionSweep = "RetentionSweep"
	ErasureWorker  = "ErasureWorker"
	MailSender     = "MailSender"
	LedgerSeal     = "LedgerSeal"
	RequestWorker  = "RequestWorker"
	// WarehouseExport writes the day's anonymised warehouse files (R-DWH-1…3).
	WarehouseExport = "WarehouseExport"
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

// New lists the triggers over the services that run them: a shell each, the work is the
// domain's. The erasure queue carries jobs for every kind of subject, which the
// ErasureService tells apart; the ledger's seal runs an hour after the sweep, once the day
// before has ended and its last appends have landed.
func New(erasure *gdpr.ErasureService, contacts *gdpr.ContactRetentionService, mail *gdpr.MailService, retention *gdpr.RetentionService,
	ledger *gdpr.LedgerService, requests *gdpr.RequestService, exports *gdpr.ExportService, warehouse *gdpr.WarehouseService) Set {
	return Set{
		Queues: []Queue{
			{ErasureWorker, gdpr.QueueErasure, "msg", erasure.HandleErasureJob, erasure.HandleErasureJobs},
			{MailSender, gdpr.QueueMail, "msg", mail.HandleMailJob, nil},
			{RequestWorker, gdpr.QueueRequests, "msg", requests.HandleRequestJob, nil},
		},
		Timers: []Timer{
			{RetentionSweep, "timer", gdpr.DailySweep(retention, contacts, requests, exports)},
			{LedgerSeal, "timer", ledger.SealDue},
			{WarehouseExport, "timer", func(ctx context.Context) error { _, err := warehouse.Export(ctx); return err }},
		},
	}
}
