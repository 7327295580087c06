package mailjet

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// groupedBatch builds a Version-2 body of n events, cycling through the grouped fixture's
// eight (every type, ip and agent included, as Mailjet sends them) with distinct MessageIDs.
func groupedBatch(b testing.TB, n int) []byte {
	b.Helper()
	objs := rawObjects(b, fixture(b, groupedEventFixture))
	batch := make([]map[string]any, n)
	for i := range batch {
		ev := make(map[string]any, len(objs[i%len(objs)]))
		for k, v := range objs[i%len(objs)] {
			ev[k] = v
		}
		ev["MessageID"] = json.Number(fmt.Sprint(576460752303424001 + int64(i)))
		batch[i] = ev
	}
	body, err := json.Marshal(batch)
	require.NoError(b, err)
	return body
}

// BenchmarkDecodeEvents measures the decoding share of callback ingestion (the performance budget asks
// ≥ 20,000 events/s batched for the whole path, store included).
func BenchmarkDecodeEvents(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			body := groupedBatch(b, n)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				events, err := DecodeEvents(body)
				if err != nil || len(events) != n {
					b.Fatalf("decoded %d events: %v", len(events), err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
