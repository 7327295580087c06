package httpapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/gdpr"
)

// Under the Functions host, a queue function that fails has its message abandoned and
// delivered again at once: Service Bus triggers have no retry policy of their own. A store that
// throttles (429) or a provider that is down would burn the message's deliveries in seconds
// and dead-letter it. So a job that failed because something is unavailable is deferred: a copy
// is published to come back later, with a backoff counted in its id, and this delivery
// completes. Past maxDeferrals the failure stands, and the queue's own delivery count decides.
const (
	maxDeferrals  = 8
	firstDeferral = 30 * time.Second
	maxDeferral   = time.Hour
	deferralMark  = "~deferred"
)

// deferral is the copy of msg to publish, and whether msg may be deferred again.
func deferral(queue string, msg azfunc.ServiceBusMessage, now time.Time) (gdpr.Message, bool) {
	base, n := msg.MessageID, 0
	if i := strings.LastIndex(base, deferralMark); i >= 0 {
		if k, err := strconv.Atoi(base[i+len(deferralMark):]); err == nil {
			base, n = base[:i], k
		}
	}
	if base == "" || n >= maxDeferrals {
		return gdpr.Message{}, false
	}
	wait := min(firstDeferral<<n, maxDeferral)
	return gdpr.Message{ID: fmt.Sprintf("%s%s%d", base, deferralMark, n+1), Body: msg.Body, NotBefore: now.Add(wait)}, true
}

// deferUnavailable publishes a later copy of a message whose job failed as unavailable, and
// reports whether it did: the delivery may then complete.
func (a *api) deferUnavailable(ctx context.Context, queue string, msg azfunc.ServiceBusMessage, err error) bool {
	if a.requeue == nil || gdpr.ErrorCode(err) != gdpr.CodeUnavailable {
		return false
	}
	copy, ok := deferral(queue, msg, time.Now())
	if !ok {
		return false
	}
	if _, perr := a.requeue.Publish(ctx, queue, copy); perr != nil {
		a.log.WarnContext(ctx, "could not defer an unavailable job; the queue retries it", "queue", queue, "err", perr)
		return false
	}
	a.log.WarnContext(ctx, "job deferred: a dependency is unavailable", "queue", queue, "message", copy.ID, "notBefore", copy.NotBefore)
	return true
}
