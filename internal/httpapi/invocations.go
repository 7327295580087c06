package httpapi

import (
	"context"
	"net/http"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/gdpr"
)

// Non-HTTP function names: the folders under functions/ and the paths the host POSTs to.
const (
	FnRetentionSweep = "RetentionSweep"
	FnErasureWorker  = "ErasureWorker"
	FnMailSender     = "MailSender"
)

// QueueFunction is a Service Bus-triggered function. Local mode feeds the same Handle from
// its embedded queue, so both modes run one code path.
type QueueFunction struct {
	Name, Queue, Binding string
	Handle               func(ctx context.Context, body []byte) error
	// HandleBatch, when set, takes many messages at once and answers for each; Handle is the
	// same with one. Local mode's consumer uses it: its single SQLite writer makes shared
	// writes what throughput rests on. The host delivers one message per invocation.
	HandleBatch func(ctx context.Context, bodies [][]byte) []error
}

// TimerFunction is a timer-triggered function; its schedule lives in its function.json.
type TimerFunction struct {
	Name, Binding string
	Run           func(ctx context.Context) error
}

// QueueFunctions lists the queue-triggered functions.
func QueueFunctions(svc *gdpr.Service) []QueueFunction {
	return []QueueFunction{
		{FnErasureWorker, gdpr.QueueErasure, "msg", svc.HandleErasureJob, svc.HandleErasureJobs},
		{FnMailSender, gdpr.QueueMail, "msg", svc.HandleMailJob, nil},
	}
}

// TimerFunctions lists the timer-triggered functions.
func TimerFunctions(svc *gdpr.Service) []TimerFunction {
	return []TimerFunction{
		{FnRetentionSweep, "timer", svc.RetentionSweep},
	}
}

// invocations serves POST /{FunctionName} envelopes. Any failure answers non-2xx so that the
// host retries: Service Bus redelivers and dead-letters after 10 deliveries, which is also
// where a malformed message ends up, visible to operators rather than silently dropped.
func (a *api) invocations(mux *http.ServeMux) {
	for _, f := range QueueFunctions(a.svc) {
		mux.HandleFunc("POST /"+f.Name, func(w http.ResponseWriter, r *http.Request) {
			inv, err := azfunc.DecodeInvocation(r)
			var msg azfunc.ServiceBusMessage
			if err == nil {
				msg, err = inv.ServiceBusMessage(f.Binding)
			}
			if err == nil {
				err = f.Handle(r.Context(), msg.Body)
			}
			a.finishInvocation(w, r, f.Name, err)
		})
	}
	for _, f := range TimerFunctions(a.svc) {
		mux.HandleFunc("POST /"+f.Name, func(w http.ResponseWriter, r *http.Request) {
			inv, err := azfunc.DecodeInvocation(r)
			if err == nil {
				_, err = inv.Timer(f.Binding)
			}
			if err == nil {
				err = f.Run(r.Context())
			}
			a.finishInvocation(w, r, f.Name, err)
		})
	}
}

func (a *api) finishInvocation(w http.ResponseWriter, r *http.Request, name string, err error) {
	if err != nil {
		a.log.ErrorContext(r.Context(), "invocation failed", "function", name, "code", string(gdpr.ErrorCode(err)), "err", err)
		azfunc.WriteFailure(w, http.StatusInternalServerError)
		return
	}
	_ = azfunc.WriteResult(w, azfunc.Result{})
}
