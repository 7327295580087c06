package httpapi

import (
	"errors"
	"net/http"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/gdpr"
)

// invocations serves POST /{FunctionName} envelopes. Any failure answers non-2xx so that the
// host retries: Service Bus redelivers and dead-letters after 10 deliveries, which is also
// where a malformed message ends up, visible to operators rather than silently dropped.
func (a *api) invocations(mux *http.ServeMux) {
	for _, f := range a.triggers.Queues {
		mux.HandleFunc("POST /"+f.Name, func(w http.ResponseWriter, r *http.Request) {
			inv, err := azfunc.DecodeInvocation(r)
			var msg azfunc.ServiceBusMessage
			if err == nil {
				msg, err = inv.ServiceBusMessage(f.Binding)
			}
			if err == nil && msg.MetadataErr != nil {
				// Only the body is needed; the properties that could not be read are named.
				a.log.WarnContext(r.Context(), "service bus metadata partly unreadable", "function", f.Name, "err", msg.MetadataErr)
			}
			if err == nil && a.replayPending(r) {
				// Deferred rather than failed: the message keeps its deliveries for after the replay.
				err = gdpr.Errorf(gdpr.CodeUnavailable, "a restored store waits for its replay")
			} else if err == nil {
				err = f.Handle(r.Context(), msg.Body)
			}
			if err != nil && a.deferUnavailable(r.Context(), f.Queue, msg, err) {
				err = nil
			}
			a.finishInvocation(w, r, f.Name, err)
		})
	}
	for _, f := range a.triggers.Timers {
		mux.HandleFunc("POST /"+f.Name, func(w http.ResponseWriter, r *http.Request) {
			inv, err := azfunc.DecodeInvocation(r)
			if err == nil {
				_, err = inv.Timer(f.Binding)
			}
			if err == nil && a.replayPending(r) {
				err = gdpr.Errorf(gdpr.CodeUnavailable, "a restored store waits for its replay")
			} else if err == nil {
				err = f.Run(r.Context())
			}
			a.finishInvocation(w, r, f.Name, err)
		})
	}
}

func (a *api) finishInvocation(w http.ResponseWriter, r *http.Request, name string, err error) {
	if errors.Is(err, azfunc.ErrTooLarge) {
		// Still a failure, so the host dead-letters the message after its retries.
		a.log.ErrorContext(r.Context(), "invocation too large", "function", name, "limit", azfunc.MaxInvocationBytes)
		azfunc.WriteFailure(w, http.StatusRequestEntityTooLarge)
		return
	}
	if errors.Is(err, azfunc.ErrTooDeep) {
		a.log.ErrorContext(r.Context(), "invocation nested too deeply", "function", name, "limit", azfunc.MaxEnvelopeDepth)
		azfunc.WriteFailure(w, http.StatusBadRequest)
		return
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "invocation failed", "function", name, "code", string(gdpr.ErrorCode(err)), "err", err)
		azfunc.WriteFailure(w, http.StatusInternalServerError)
		return
	}
	_ = azfunc.WriteResult(w, azfunc.Result{})
}
