package servicebus

import (
	"testing"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/queuetest"
)

// TestQueueConformance runs the gdpr.Queue conformance suite on the Publisher over fakeBus,
// which stands where the SDK's sender would. No namespace is reachable from tests (and Service
// Bus has no emulator that runs without Docker), so nothing is delivered: the suite checks
// what the broker would receive — message ids, scheduled enqueue times, the sequence numbers
// Cancel withdraws, batch order — and skips, saying so, what only the broker can show.
func TestQueueConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Harness {
		clock, bus := queuetest.NewClock(), &fakeBus{nextSeq: 41}
		return &harness{Manual: clock, bus: bus, p: newPublisher(bus.newSender, clock.Now)}
	})
}

type harness struct {
	*clocktest.Manual
	bus *fakeBus
	p   *Publisher
}

var _ queuetest.Recorder = (*harness)(nil)

func (h *harness) Queue() gdpr.Queue { return h.p }

func (h *harness) NoDelivery() string {
	return "no Service Bus namespace is reachable from tests; the fake sender records what the SDK would send"
}

// Sent reads the requests in order: each message sent now, in a batch or alone, and each
// scheduled one with the enqueue time and sequence number of its ScheduleMessages request.
func (h *harness) Sent(queue string) []queuetest.Sent {
	h.bus.mu.Lock()
	defer h.bus.mu.Unlock()
	var out []queuetest.Sent
	for _, c := range h.bus.calls {
		if c.Queue != queue {
			continue
		}
		switch c.Op {
		case "send":
			out = append(out, queuetest.Sent{MessageID: *c.Msg.MessageID, Body: c.Msg.Body})
		case "sendBatch":
			for _, m := range c.Msgs {
				out = append(out, queuetest.Sent{MessageID: *m.MessageID, Body: m.Body})
			}
		case "schedule":
			for _, m := range c.Msgs {
				out = append(out, queuetest.Sent{MessageID: *m.MessageID, Body: m.Body,
					EnqueueAt: c.At, Ref: formatRef(h.bus.seqOf[m])})
			}
		}
	}
	return out
}

func (h *harness) Cancelled(queue string) []string {
	h.bus.mu.Lock()
	defer h.bus.mu.Unlock()
	var out []string
	for _, c := range h.bus.calls {
		if c.Queue == queue && c.Op == "cancel" {
			for _, seq := range c.Seqs {
				out = append(out, formatRef(seq))
			}
		}
	}
	return out
}
