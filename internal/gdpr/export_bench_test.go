package gdpr_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// BenchmarkExportAccess10kContacts is the access export of a member with 10,000 contacts on
// the embedded store and a blob folder: zipped, written and recorded. It reports the peak
// heap in use while exports run (sampled), against a budget of memory bounded whatever the
// subject's size, and the process's peak RSS (VmHWM, Linux).
func BenchmarkExportAccess10kContacts(b *testing.B) {
	w := newExportWorld(b)
	ctx := context.Background()
	m := w.member(b)
	for range 10_000 {
		w.contact(b, m.ID, gdpr.MemberOptInInvitationAccepted, gdpr.BrandOptInBlog)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	})
	b.ResetTimer()
	for i := range b.N {
		_, err := w.exports.Produce(ctx, gdpr.ExportJob{Brand: w.brand, RequestID: "bench-" + strconv.Itoa(i), Scope: gdpr.ExportSubject, SubjectID: m.ID})
		require.NoError(b, err)
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak-min(peak, base.HeapInuse))/(1<<20), "peak-heap-MB-above-base")
	b.ReportMetric(float64(base.HeapInuse)/(1<<20), "base-heap-MB")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	}
}

// peakRSS reads the process's peak resident set (VmHWM) in bytes; 0 where /proc is absent.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}
