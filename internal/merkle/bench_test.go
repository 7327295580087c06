package merkle

import (
	"testing"
)

// BenchmarkRoot100k: the root of a day of 100,000 records' leaf hashes, streamed.
func BenchmarkRoot100k(b *testing.B) {
	d := leavesOf(100_000)
	b.ReportAllocs()
	for b.Loop() {
		var bl Builder
		for _, l := range d {
			bl.Add(l)
		}
		_ = bl.Root()
	}
}

// BenchmarkProof100k: building one record's proof in a day of 100,000, and its size.
func BenchmarkProof100k(b *testing.B) {
	d := leavesOf(100_000)
	var path []Hash
	b.ReportAllocs()
	for b.Loop() {
		path, _ = InclusionProof(d, 61_234)
	}
	b.ReportMetric(float64(len(path)*len(Hash{})), "proof-bytes")
}

// BenchmarkVerify100k: what an auditor's check of one record costs.
func BenchmarkVerify100k(b *testing.B) {
	d := leavesOf(100_000)
	root := Root(d)
	path, _ := InclusionProof(d, 61_234)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyInclusion(d[61_234], 61_234, uint64(len(d)), path, root); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(path)), "path-hashes")
}
