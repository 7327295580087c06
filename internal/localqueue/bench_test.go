package localqueue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// BenchmarkPublishConsume measures end-to-end throughput: b.N messages published, each
// delivered to a no-op handler and completed.
func BenchmarkPublishConsume(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", n), func(b *testing.B) {
			opts := fastOptions()
			opts.PollInterval = 100 * time.Millisecond // delivery must come from wake-ups
			q, _ := openTemp(b, opts)
			consume(b, q, qA, func(context.Context, Delivery) error { return nil }, n)
			ctx := context.Background()
			body := []byte(`{"brandId":"b_1","userId":"u_0123456789abcdefghjkmnpqrs"}`)

			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, err := q.Publish(ctx, qA, gdpr.Message{Body: body}); err != nil {
					b.Fatal(err)
				}
			}
			if err := q.WaitIdle(ctx, qA); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkPublish measures enqueueing alone, the cost a request handler pays.
func BenchmarkPublish(b *testing.B) {
	q, _ := openTemp(b, fastOptions())
	ctx := context.Background()
	body := []byte(`{"brandId":"b_1","userId":"u_0123456789abcdefghjkmnpqrs"}`)
	b.ResetTimer()
	for range b.N {
		if _, err := q.Publish(ctx, qA, gdpr.Message{Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPublishBatch1000 measures the daily sweep's enqueueing: 1,000 erasure jobs of one
// brand in one PublishBatch, into a queue that consumers keep near empty (the rows are deleted
// between rounds, off the clock). Compare its µs/msg with BenchmarkPublish, one message a call.
func BenchmarkPublishBatch1000(b *testing.B) {
	q, _ := openTemp(b, fastOptions())
	ctx := context.Background()
	body := []byte(`{"brandId":"b_1","userId":"u_0123456789abcdefghjkmnpqrs"}`)
	msgs := make([]gdpr.Message, 1000)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if _, err := q.db.Exec(`DELETE FROM messages`); err != nil {
			b.Fatal(err)
		}
		for j := range msgs {
			msgs[j] = gdpr.Message{ID: fmt.Sprintf("erase:b_1:u_%09d:inactivity:%d", j, i), Body: body}
		}
		b.StartTimer()
		if _, err := q.PublishBatch(ctx, qA, msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(msgs)), "µs/msg")
}
