package merkle

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

// The leaves and roots of the certificate-transparency test vectors (transparency-dev/merkle
// testonly/constants.go, LeafInputs and RootHashes; the same in the C++ and Go CT logs).
var ctLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f"}

var ctRoots = []string{
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

// Audit paths of the same vectors (transparency-dev/merkle testonly/reference_test.go,
// TestRefInclusionProof), 0-based indexes.
var ctPaths = []struct {
	index, size int
	path        []string
}{
	{0, 1, nil},
	{0, 2, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"}},
	{1, 2, []string{"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}},
	{2, 3, []string{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	{1, 5, []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{0, 8, []string{
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{5, 8, []string{
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctLeafHashes(t testing.TB) []Hash {
	out := make([]Hash, len(ctLeaves))
	for i, l := range ctLeaves {
		out[i] = LeafHash(mustHex(t, l))
	}
	return out
}

func TestRootMatchesTheCTVectors(t *testing.T) {
	leaves := ctLeafHashes(t)
	for n := 0; n <= len(leaves); n++ {
		if got := Root(leaves[:n]).String(); got != ctRoots[n] {
			t.Errorf("root of %d leaves = %s, want %s", n, got, ctRoots[n])
		}
	}
}

// The RFC 6962 hasher vectors (transparency-dev/merkle rfc6962_test.go).
func TestHasherVectors(t *testing.T) {
	if got := LeafHash([]byte("L123456")).String(); got != "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56" {
		t.Errorf("leaf hash = %s", got)
	}
	// The node vector hashes the strings "N123" and "N456", not 32-byte hashes, so it checks
	// the prefix NodeHash uses rather than NodeHash itself.
	sum := sha256.Sum256(append([]byte{nodePrefix}, "N123N456"...))
	if got := hex.EncodeToString(sum[:]); got != "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb" {
		t.Errorf("node hash = %s", got)
	}
	if got := EmptyRoot().String(); got != ctRoots[0] {
		t.Errorf("empty root = %s", got)
	}
}

// Larger trees: the golden roots of transparency-dev/merkle compact/range_test.go
// (TestGetRootHashGolden), leaf i being the two bytes i & 0xff, i >> 8.
func TestRootMatchesTheGoldenRoots(t *testing.T) {
	for _, c := range []struct {
		size int
		root string
	}{
		{10, "VjWMPSYNtCuCNlF/RLnQy6HcwSk6CIipfxm+hettA+4="},
		{15, "j4SulYmocFuxdeyp12xXCIgK6PekBcxzAIj4zbQzNEI="},
		{16, "c+4Uc6BCMOZf/v3NZK1kqTUJe+bBoFtOhP+P3SayKRE="},
		{100, "dUh9hYH88p0CMoHkdr1wC2szbhcLAXOejWpINIooKUY="},
		{255, "SmdsuKUqiod3RX2jyF2M6JnbdE4QuTwwipfAowI4/i0="},
	} {
		var b Builder
		for i := range c.size {
			b.Add(LeafHash([]byte{byte(i), byte(i >> 8)}))
		}
		root := b.Root()
		if got := base64.StdEncoding.EncodeToString(root[:]); got != c.root {
			t.Errorf("root of %d leaves = %s, want %s", c.size, got, c.root)
		}
	}
}

func TestInclusionProofMatchesTheCTVectors(t *testing.T) {
	leaves := ctLeafHashes(t)
	for _, c := range ctPaths {
		t.Run(fmt.Sprintf("%d_of_%d", c.index, c.size), func(t *testing.T) {
			path, err := InclusionProof(leaves[:c.size], uint64(c.index))
			if err != nil {
				t.Fatal(err)
			}
			if len(path) != len(c.path) {
				t.Fatalf("path has %d hashes, want %d", len(path), len(c.path))
			}
			for i := range path {
				if path[i].String() != c.path[i] {
					t.Errorf("path[%d] = %s, want %s", i, path[i], c.path[i])
				}
			}
			root, _ := ParseHash(ctRoots[c.size])
			if err := VerifyInclusion(leaves[c.index], uint64(c.index), uint64(c.size), path, root); err != nil {
				t.Error(err)
			}
		})
	}
}

// naiveRoot and naiveProof are RFC 6962 §2.1 and §2.1.1 written as the RFC writes them, the
// reference the iterative code is checked against.
func naiveRoot(d []Hash) Hash {
	switch len(d) {
	case 0:
		return EmptyRoot()
	case 1:
		return d[0]
	}
	k := splitPoint(uint64(len(d)))
	return NodeHash(naiveRoot(d[:k]), naiveRoot(d[k:]))
}

func naiveProof(d []Hash, m uint64) []Hash {
	n := uint64(len(d))
	if n <= 1 {
		return nil
	}
	k := splitPoint(n)
	if m < k {
		return append(naiveProof(d[:k], m), naiveRoot(d[k:]))
	}
	return append(naiveProof(d[k:], m-k), naiveRoot(d[:k]))
}

func leavesOf(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		out[i] = LeafHash(fmt.Appendf(nil, "record %d", i))
	}
	return out
}

// Every size up to 70 and every index: the streaming root and the proofs agree with the
// recursive definition, and every proof verifies.
func TestAgreesWithTheRecursiveDefinition(t *testing.T) {
	all := leavesOf(70)
	for n := 0; n <= len(all); n++ {
		d := all[:n]
		root := Root(d)
		if want := naiveRoot(d); root != want {
			t.Fatalf("root of %d leaves differs from the definition", n)
		}
		for m := range uint64(n) {
			path, err := InclusionProof(d, m)
			if err != nil {
				t.Fatal(err)
			}
			want := naiveProof(d, m)
			if fmt.Sprint(path) != fmt.Sprint(want) {
				t.Fatalf("proof of %d in %d differs from the definition", m, n)
			}
			if err := VerifyInclusion(d[m], m, uint64(n), path, root); err != nil {
				t.Fatalf("proof of %d in %d: %v", m, n, err)
			}
		}
	}
}

// A proof verifies for its leaf, index, size and root only: the corruptions of
// transparency-dev/merkle's corruptInclusionProof are each refused.
func TestCorruptedProofsFail(t *testing.T) {
	d := leavesOf(37)
	root := Root(d)
	other := LeafHash([]byte("another"))
	for _, m := range []uint64{0, 1, 5, 31, 32, 36} {
		path, _ := InclusionProof(d, m)
		n := uint64(len(d))
		type probe struct {
			name        string
			leaf        Hash
			index, size uint64
			path        []Hash
			root        Hash
		}
		probes := []probe{
			{"index-1", d[m], m - 1, n, path, root},
			{"index+1", d[m], m + 1, n, path, root},
			{"index^2", d[m], m ^ 2, n, path, root},
			{"size*2", d[m], m, n * 2, path, root},
			{"size/2", d[m], m, n / 2, path, root},
			{"wrong leaf", other, m, n, path, root},
			{"empty root", d[m], m, n, path, EmptyRoot()},
			{"trailing root", d[m], m, n, append(append([]Hash{}, path...), root), root},
			{"preceding root", d[m], m, n, append([]Hash{root}, path...), root},
			{"removed component", d[m], m, n, path[:len(path)-1], root},
		}
		for i := range path {
			bad := append([]Hash{}, path...)
			bad[i][0] ^= 8
			probes = append(probes, probe{fmt.Sprintf("bit flipped in path[%d]", i), d[m], m, n, bad, root})
		}
		for _, p := range probes {
			if err := VerifyInclusion(p.leaf, p.index, p.size, p.path, p.root); !errors.Is(err, ErrProof) {
				t.Errorf("leaf %d, %s: err = %v, want ErrProof", m, p.name, err)
			}
		}
	}
}

func TestInclusionProofOutOfRange(t *testing.T) {
	if _, err := InclusionProof(leavesOf(3), 3); err == nil {
		t.Error("index 3 of 3 leaves: no error")
	}
	if _, err := InclusionProof(nil, 0); err == nil {
		t.Error("empty tree: no error")
	}
}

func TestParseHash(t *testing.T) {
	h := LeafHash([]byte("x"))
	got, err := ParseHash(h.String())
	if err != nil || got != h {
		t.Fatalf("ParseHash(String()) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "00", h.String() + "00", "zz" + h.String()[2:]} {
		if _, err := ParseHash(bad); err == nil {
			t.Errorf("ParseHash accepted a %d-character string", len(bad))
		}
	}
}
