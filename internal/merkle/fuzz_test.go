package merkle

import (
	"errors"
	"testing"
)

// FuzzParseHash: hashes come from outside (an auditor's proof, an export); any string either
// parses back to itself or is refused, never panics.
func FuzzParseHash(f *testing.F) {
	f.Add(LeafHash(nil).String())
	f.Add("")
	f.Add("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		if err != nil {
			return
		}
		if again, err := ParseHash(h.String()); err != nil || again != h {
			t.Fatalf("a parsed hash does not round-trip")
		}
	})
}

// FuzzVerifyInclusion: a proof made up of any index, size and path never panics, and one
// that verifies against a real tree's root is that tree's own proof for that leaf. (The size
// is not bound by the proof alone: leaf 44's path is the same in trees of 111 and 123 leaves,
// whose shapes agree where it climbs; the seal's count is what fixes the size.)
func FuzzVerifyInclusion(f *testing.F) {
	f.Add(uint64(3), uint64(7), uint8(5), []byte{1, 2, 3})
	f.Add(uint64(0), uint64(1), uint8(1), []byte{})
	f.Add(uint64(6), uint64(8), uint8(8), []byte{0})
	f.Fuzz(func(t *testing.T, index, size uint64, n uint8, mutation []byte) {
		d := leavesOf(int(n))
		root := Root(d)
		var leaf Hash
		if index < uint64(len(d)) {
			leaf = d[index]
		}
		var path []Hash
		if index < uint64(len(d)) {
			path, _ = InclusionProof(d, index)
		}
		for i, b := range mutation {
			if len(path) > 0 {
				path[i%len(path)][b%32] ^= b | 1
			}
		}
		err := VerifyInclusion(leaf, index, size, path, root)
		if err != nil && !errors.Is(err, ErrProof) {
			t.Fatalf("an error that is not ErrProof: %v", err)
		}
		if err == nil {
			if index >= uint64(len(d)) {
				t.Fatalf("a proof for leaf %d verified against a tree of %d", index, len(d))
			}
			want, _ := InclusionProof(d, index)
			for i := range want {
				if want[i] != path[i] {
					t.Fatalf("a changed path verified")
				}
			}
		}
	})
}
