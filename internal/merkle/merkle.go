// Package merkle is the Merkle Tree Hash of RFC 6962 §2.1 (SHA-256, leaf prefix 0x00, node
// prefix 0x01) with its inclusion proofs: what the erasure ledger seals a day with, and what an
// auditor checks one record against without seeing the others. Standard library only, so the
// offline verifier can use it as it is.
package merkle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// Hash is a SHA-256 digest: a leaf hash, a node hash or a root.
type Hash [sha256.Size]byte

// String is the hash in lower-case hex, the form seals and proofs carry.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads a hash written by String. The error does not quote its input.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return Hash{}, errors.New("merkle: a hash is 64 hex digits")
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, errors.New("merkle: a hash is 64 hex digits")
	}
	return h, nil
}

// The domain-separation prefixes of RFC 6962 §2.1: a leaf can never be taken for a node.
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// LeafHash is SHA-256(0x00 || data).
func LeafHash(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{leafPrefix})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash is SHA-256(0x01 || left || right).
func NodeHash(left, right Hash) Hash {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[1+sha256.Size:], right[:])
	return sha256.Sum256(buf[:])
}

// EmptyRoot is the hash of a tree of no leaves, SHA-256 of the empty string.
func EmptyRoot() Hash { return sha256.Sum256(nil) }

// Root is the Merkle Tree Hash of the leaf hashes given, in their order.
func Root(leaves []Hash) Hash {
	var b Builder
	for _, l := range leaves {
		b.Add(l)
	}
	return b.Root()
}

// Builder computes a root as leaves stream in, holding one hash per set bit of the count so
// far (O(log n) memory): sealing a day never needs the day's records in memory at once.
//
// RFC 6962 splits n leaves at the largest power of two below n, so the tree is a row of
// perfect subtrees of decreasing size, one per set bit of n; the root folds them from the
// right. The zero Builder is empty.
type Builder struct {
	peaks []Hash // roots of the perfect subtrees, largest first
	n     uint64
}

// Add appends a leaf hash.
func (b *Builder) Add(leaf Hash) {
	h := leaf
	// Each trailing one bit of n is a perfect subtree the same size as the one being carried:
	// merge them, as binary addition carries.
	for carry := b.n; carry&1 == 1; carry >>= 1 {
		h = NodeHash(b.peaks[len(b.peaks)-1], h)
		b.peaks = b.peaks[:len(b.peaks)-1]
	}
	b.peaks = append(b.peaks, h)
	b.n++
}

// Size is the number of leaves added.
func (b *Builder) Size() uint64 { return b.n }

// Root is the Merkle Tree Hash of the leaves added so far.
func (b *Builder) Root() Hash {
	if len(b.peaks) == 0 {
		return EmptyRoot()
	}
	root := b.peaks[len(b.peaks)-1]
	for i := len(b.peaks) - 2; i >= 0; i-- {
		root = NodeHash(b.peaks[i], root)
	}
	return root
}

// InclusionProof is the audit path of leaf index in the tree of the leaves given (RFC 6962
// §2.1.1): the sibling hashes from the leaf up to the root. It costs O(n) hashes, the same
// as computing the root.
func InclusionProof(leaves []Hash, index uint64) ([]Hash, error) {
	n := uint64(len(leaves))
	if index >= n {
		return nil, fmt.Errorf("merkle: index %d outside a tree of %d leaves", index, n)
	}
	var path []Hash
	for lo, hi := uint64(0), n; hi-lo > 1; {
		k := splitPoint(hi - lo)
		if index < lo+k {
			path = append(path, Root(leaves[lo+k:hi]))
			hi = lo + k
		} else {
			path = append(path, Root(leaves[lo:lo+k]))
			lo += k
		}
	}
	// Collected root-down; the path runs leaf-up.
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path, nil
}

// splitPoint is the largest power of two smaller than n (n >= 2).
func splitPoint(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

// ErrProof is returned, wrapped, when a proof does not lead to the root it claims.
var ErrProof = errors.New("merkle: inclusion proof does not verify")

// VerifyInclusion checks that leaf is leaf index of the tree of size leaves whose root is
// root, given its audit path (RFC 9162 §2.1.3.2).
func VerifyInclusion(leaf Hash, index, size uint64, path []Hash, root Hash) error {
	got, err := RootFromInclusion(leaf, index, size, path)
	if err != nil {
		return err
	}
	if got != root {
		return fmt.Errorf("%w: the path leads to another root", ErrProof)
	}
	return nil
}

// RootFromInclusion is the root a leaf and its audit path lead to (RFC 9162 §2.1.3.2, steps
// 1 to 5). A path of the wrong length for index and size is an error.
func RootFromInclusion(leaf Hash, index, size uint64, path []Hash) (Hash, error) {
	if index >= size {
		return Hash{}, fmt.Errorf("%w: index %d outside a tree of %d leaves", ErrProof, index, size)
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range path {
		if sn == 0 {
			return Hash{}, fmt.Errorf("%w: the path is too long", ErrProof)
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			// Skip the levels where this node is a right edge with no sibling.
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return Hash{}, fmt.Errorf("%w: the path is too short", ErrProof)
	}
	return r, nil
}
