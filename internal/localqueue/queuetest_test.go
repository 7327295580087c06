package localqueue

import (
	"context"
	"testing"
	"time"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/queuetest"
)

// TestQueueConformance runs the gdpr.Queue conformance suite: localqueue delivers, so every
// check runs end to end.
func TestQueueConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Harness {
		clock := queuetest.NewClock()
		opts := fastOptions()
		opts.Now = clock.Now
		// A failed delivery waits one minute of the service clock, which only the suite moves.
		opts.BaseBackoff, opts.MaxBackoff = time.Minute, time.Minute
		opts.MaxDeliveries = 3
		q, _ := openTemp(t, opts)
		return &harness{Manual: clock, q: q}
	})
}

type harness struct {
	*clocktest.Manual
	q *Queue
}

var _ queuetest.Deliverer = (*harness)(nil)

func (h *harness) Queue() gdpr.Queue { return h.q }

// Consume runs two handlers at a time, so that the checks meet a consumer with company.
func (h *harness) Consume(t *testing.T, queue string, handle queuetest.Handler) {
	consume(t, h.q, queue, func(ctx context.Context, d Delivery) error {
		return handle(ctx, queuetest.Delivery{ID: d.ID, Body: d.Body, DeliveryCount: d.DeliveryCount})
	}, 2)
}

func (h *harness) Drain(ctx context.Context, queue string) error { return h.q.WaitIdle(ctx, queue) }

func (h *harness) RetryDelay() time.Duration { return h.q.opts.MaxBackoff }

func (h *harness) MaxDeliveries() int { return h.q.opts.MaxDeliveries }

func (h *harness) DeadLetters(ctx context.Context, queue string) ([]queuetest.DeadLetter, error) {
	dls, err := h.q.DeadLetters(ctx, queue)
	if err != nil {
		return nil, err
	}
	out := make([]queuetest.DeadLetter, len(dls))
	for i, d := range dls {
		out[i] = queuetest.DeadLetter{ID: d.ID, DeliveryCount: d.DeliveryCount}
	}
	return out, nil
}
