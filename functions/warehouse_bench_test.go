package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/storetest"
	"popsell-gdpr/internal/warehouse"
)

// BenchmarkWarehouseExport1MMembers1MContacts exports one brand of 1,000,000 members and
// 1,000,000 contacts (each with a sale and a consent change) from the embedded store to the
// warehouse folder: rows/s, and the peak RSS of the export alone (the kernel's high-water
// mark, reset after seeding; budget 256 MB, bounded by a row group, not by the brand).
// Seeding takes minutes; POPSELL_BENCH_WAREHOUSE_N sets another size.
func BenchmarkWarehouseExport1MMembers1MContacts(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("POPSELL_BENCH_WAREHOUSE_N")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	dir := b.TempDir()
	store, err := localstore.Open(filepath.Join(dir, "popsell.db"))
	require.NoError(b, err)
	defer store.Close()
	const brand = gdpr.BrandID("bench")
	_, err = store.PutBrand(ctx, storetest.NewBrand(brand))
	require.NoError(b, err)
	const chunk = 5000
	for start := 0; start < n; start += chunk {
		users := make([]gdpr.User, 0, chunk)
		contacts := make([]gdpr.Contact, 0, chunk)
		for range min(chunk, n-start) {
			u := storetest.NewUser(brand)
			u.Block, u.Erasure, u.Restriction = nil, nil, nil
			users = append(users, u)
			c := storetest.NewContact(brand, u.ID)
			c.Erasure = nil
			contacts = append(contacts, c)
		}
		require.NoError(b, store.BulkCreateUsers(ctx, users))
		require.NoError(b, store.BulkCreateContacts(ctx, contacts))
	}
	h, err := gdpr.NewHasher("h1", []byte(strings.Repeat("k", 32)))
	require.NoError(b, err)
	clock := clocktest.New(time.Date(2031, 6, 1, 4, 0, 0, 0, time.UTC))
	svc, err := gdpr.NewWarehouseService(gdpr.Core{Brands: store, Hasher: h, Clock: clock}, store,
		warehouse.Files{Blobs: blobstore.NewFolder(filepath.Join(dir, "warehouse"))})
	require.NoError(b, err)
	resetPeakRSS(b)
	b.ResetTimer()
	start := time.Now()
	var rows int64
	for b.Loop() {
		clock.Set(clock.Now().AddDate(0, 0, 1)) // a new day each time: nothing skipped
		m, err := svc.Export(ctx)
		require.NoError(b, err)
		for _, r := range m.Brands[0].Rows {
			rows += r
		}
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MB")
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS (Linux: "5" to
// clear_refs), so peakRSS reports what follows.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("peak RSS cannot be measured here: %v", err)
	}
}

// peakRSS is VmHWM, in bytes.
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(b, err)
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(b, err)
			return kb << 10
		}
	}
	b.Fatal("no VmHWM")
	return 0
}
