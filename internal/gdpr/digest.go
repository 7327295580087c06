package gdpr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Hasher produces the keyed digests that replace personal values which must stay comparable
// but unreadable: blacklisted and whitelisted emails, erased emails and customer ids
// (R-ERASE-4). A plain SHA-256 of an email is reversible with a dictionary of addresses; the
// per-deployment key, kept outside the data store, is what makes these digests safe.
type Hasher struct {
	version string
	key     []byte
	// macs holds keyed HMACs to reuse: keying one costs two SHA-256 blocks and several
	// allocations, more than hashing an address, and erasing a member digests each contact.
	macs sync.Pool
}

// MinHashKeyLen is the shortest key accepted: 256 bits.
const MinHashKeyLen = 32

// NewHasher takes the versioned key ("h1"). Digests carry the version so keys can be rotated.
func NewHasher(version string, key []byte) (*Hasher, error) {
	if len(key) < MinHashKeyLen {
		return nil, errors.New("gdpr: hash key must be at least 32 bytes")
	}
	if version == "" || strings.ContainsAny(version, ": ") {
		return nil, errors.New("gdpr: hash key version must be a short word")
	}
	h := &Hasher{version: version, key: append([]byte(nil), key...)}
	h.macs.New = func() any { return hmac.New(sha256.New, h.key) }
	return h, nil
}

// Digest returns "<version>:<hex HMAC-SHA-256>" of value, unnormalised.
func (h *Hasher) Digest(value string) string {
	m := h.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	h.macs.Put(m)
	return h.version + ":" + hex.EncodeToString(sum[:])
}

// EmailDigest hashes the address's canonical spelling (NormalizeEmail), so the same mailbox
// typed twice, in either case, Unicode form or domain spelling, compares equal.
func (h *Hasher) EmailDigest(email string) string { return h.Digest(NormalizeEmail(email)) }

// IsDigest reports whether v already is a digest of this hasher's form, so erasing twice does
// not hash a hash.
func (h *Hasher) IsDigest(v string) bool {
	rest, ok := strings.CutPrefix(v, h.version+":")
	if !ok || len(rest) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil
}

// NormalizeEmail returns an address's canonical spelling, the one every caller hashes and
// stores, so that one mailbox has one digest however it is typed (R-MAIL-4): a global
// opt-out of "x@exämple.test" must also stop its NFD spelling and "x@xn--exmple-cua.test".
// The address is trimmed, lower-cased and put in Unicode NFC (the local part included); its
// domain, after the last @, goes through IDNA (UTS #46, the lookup profile) to its ASCII
// form, which is what DNS and Mailjet use. A domain IDNA refuses is left as it is, and
// ValidEmail refuses the address. NormalizeEmail(NormalizeEmail(a)) == NormalizeEmail(a).
func NormalizeEmail(email string) string {
	s := norm.NFC.String(strings.ToLower(strings.TrimSpace(email)))
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	domain, err := idna.Lookup.ToASCII(s[at+1:])
	if err != nil {
		return s
	}
	return s[:at+1] + strings.ToLower(domain)
}

// ValidEmail is a deliberately plain check: one @, a non-empty local part, a dotted domain that
// IDNA accepts, no spaces or control characters, at most 254 bytes. Callers check the
// canonical spelling (NormalizeEmail), whose ASCII domain may be longer than the one typed. Deliverability is proven by the double
// opt-in, not by a regular expression.
func ValidEmail(email string) bool {
	if len(email) > 254 || !utf8.ValidString(email) {
		return false
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	// A domain IDNA refuses (UTS #46 lookup: a bad xn-- label, a disallowed character) names
	// no mailbox, and NormalizeEmail has no canonical spelling for it.
	if _, err := idna.Lookup.ToASCII(domain); err != nil {
		return false
	}
	for _, r := range email {
		if r <= ' ' || unicode.IsControl(r) || unicode.IsSpace(r) || r == '<' || r == '>' || r == '"' || r == ',' || r == ';' {
			return false
		}
	}
	return true
}
