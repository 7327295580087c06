package gdpr

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
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
//
// It holds every key version of the deployment, oldest first, so that the key can be rotated
// without losing a lookup. A digest names the key that made it:
//
//   - "h2:<hex>" is HMAC(k_h2, value), a plain digest, made under the newest key and, until
//     re-keying is done, found under the older active ones;
//   - "h2.h1:<hex>" is HMAC(k_h2, "h1:<hex>"), a wrapped digest: an h1 digest whose value is
//     no longer held (the blacklist of an erased person) re-keyed without its value. Its
//     versions read outermost first; a chain always runs through consecutive versions
//     ("h3.h2.h1"), each rotation wrapping the chain once more, so a value has one wrapped
//     form per (oldest, outermost) pair and a lookup knows every form to try.
//
// A retired version makes no plain digest and none is looked up: its key only computes the
// inside of wrapped digests, so that k_h1 alone, exposed, confirms no guessed address.
type Hasher struct {
	keys    []*hashKey // oldest first; the last is the newest
	byName  map[string]*hashKey
	retired map[string]bool
}

// hashKey is one version of the key.
type hashKey struct {
	version string
	key     []byte
	// macs holds keyed HMACs to reuse: keying one costs two SHA-256 blocks and several
	// allocations, more than hashing an address, and erasing a member digests each contact.
	macs sync.Pool
}

// HashKey is one version of the hash key, as configured.
type HashKey struct {
	Version string
	Key     []byte
}

// MinHashKeyLen is the shortest key accepted: 256 bits.
const MinHashKeyLen = 32

// maxVersionLen bounds a version's name; digests carry it, and a chain of them.
const maxVersionLen = 16

// NewHasher takes a single versioned key ("h1"). Digests carry the version so keys can be
// rotated (NewKeyring).
func NewHasher(version string, key []byte) (*Hasher, error) {
	return NewKeyring([]HashKey{{Version: version, Key: key}}, nil)
}

// NewKeyring takes every key version, oldest first (the last is the newest, under which every
// new digest is made), and the versions retired: kept only to compute the inside of wrapped
// digests. The newest cannot be retired.
func NewKeyring(keys []HashKey, retired []string) (*Hasher, error) {
	if len(keys) == 0 {
		return nil, errors.New("gdpr: a hash key is needed")
	}
	h := &Hasher{byName: map[string]*hashKey{}, retired: map[string]bool{}}
	for _, k := range keys {
		if len(k.Key) < MinHashKeyLen {
			return nil, errors.New("gdpr: hash key must be at least 32 bytes")
		}
		if !ValidKeyVersion(k.Version) {
			return nil, errors.New("gdpr: hash key version must be a short word of letters and digits")
		}
		if h.byName[k.Version] != nil {
			return nil, errors.New("gdpr: hash key versions must differ")
		}
		hk := &hashKey{version: k.Version, key: append([]byte(nil), k.Key...)}
		hk.macs.New = func() any { return hmac.New(sha256.New, hk.key) }
		h.keys = append(h.keys, hk)
		h.byName[k.Version] = hk
	}
	for _, v := range retired {
		if h.byName[v] == nil {
			return nil, errors.New("gdpr: a retired hash key version must be one of the keys")
		}
		if v == h.Newest() {
			return nil, errors.New("gdpr: the newest hash key version cannot be retired")
		}
		h.retired[v] = true
	}
	return h, nil
}

// ValidKeyVersion reports whether v can name a key version: 1 to 16 ASCII letters and digits,
// beginning with a letter, so that it never holds the ':' ending a prefix or the '.' joining
// a chain.
func ValidKeyVersion(v string) bool {
	if v == "" || len(v) > maxVersionLen {
		return false
	}
	for i, r := range v {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// Newest is the version every new digest is made under.
func (h *Hasher) Newest() string { return h.keys[len(h.keys)-1].version }

// Versions lists every key version, oldest first.
func (h *Hasher) Versions() []string {
	out := make([]string, len(h.keys))
	for i, k := range h.keys {
		out[i] = k.version
	}
	return out
}

// Retired reports whether version only computes the inside of wrapped digests.
func (h *Hasher) Retired(version string) bool { return h.retired[version] }

// Digest returns "<newest version>:<hex HMAC-SHA-256>" of value, unnormalised.
func (h *Hasher) Digest(value string) string { return h.keys[len(h.keys)-1].digest(value) }

// DigestUnder returns value's plain digest under version, a version this hasher holds
// (retired ones included): what makes again something first made under an older key — an
// export link's token, the outbox's name for a recipient — to find it, never to store it.
// Callers that must not use a retired version check Retired.
func (h *Hasher) DigestUnder(version, value string) (string, bool) {
	k := h.byName[version]
	if k == nil {
		return "", false
	}
	return k.digest(value), true
}

func (k *hashKey) digest(value string) string {
	return k.version + ":" + hex.EncodeToString(k.sum(value))
}

func (k *hashKey) sum(value string) []byte {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(value))
	sum := m.Sum(make([]byte, 0, sha256.Size))
	k.macs.Put(m)
	return sum
}

// EmailDigest hashes the address's canonical spelling (NormalizeEmail), so the same mailbox
// typed twice, in either case, Unicode form or domain spelling, compares equal.
func (h *Hasher) EmailDigest(email string) string { return h.Digest(NormalizeEmail(email)) }

// Digests returns value's plain digest under every active version, newest first: the keys a
// claim is written under, so that a create under one version and a claim under another
// always meet on a version both know.
func (h *Hasher) Digests(value string) []string {
	out := make([]string, 0, len(h.keys))
	for i := len(h.keys) - 1; i >= 0; i-- {
		if k := h.keys[i]; !h.retired[k.version] {
			out = append(out, k.digest(value))
		}
	}
	return out
}

// AllDigests returns value's plain digest under every version, retired ones included: what
// an owner lets go of, so that a claim the re-keying has not yet removed goes too.
func (h *Hasher) AllDigests(value string) []string {
	out := make([]string, 0, len(h.keys))
	for i := len(h.keys) - 1; i >= 0; i-- {
		out = append(out, h.keys[i].digest(value))
	}
	return out
}

// EmailDigests is Digests of the address's canonical spelling.
func (h *Hasher) EmailDigests(email string) []string { return h.Digests(NormalizeEmail(email)) }

// Candidates returns every stored form value may take, newest first: its plain digests under
// the active versions, then its wrapped forms whose outermost version is active (a chain
// wrapped by a retired version does not exist: retiring waits until the rekeying wrapped it
// again). A lookup of a value whose source may be gone (the blacklist, a token) tries each.
func (h *Hasher) Candidates(value string) []string {
	out := h.Digests(value)
	for inner := len(h.keys) - 2; inner >= 0; inner-- {
		d := h.keys[inner].digest(value)
		for outer := inner + 1; outer < len(h.keys); outer++ {
			d = h.keys[outer].wrap(d)
			if !h.retired[h.keys[outer].version] {
				out = append(out, d)
			}
		}
	}
	return out
}

// EmailCandidates is Candidates of the address's canonical spelling.
func (h *Hasher) EmailCandidates(email string) []string { return h.Candidates(NormalizeEmail(email)) }

// Matches reports, in constant time, whether stored is a digest of value: plain or wrapped,
// under the versions stored names, provided its outermost version is not retired. A secret
// kept as a digest (a brand's callback password, its SCIM token) is checked this way, so it
// survives a rotation with no re-entry.
func (h *Hasher) Matches(value, stored string) bool {
	chain, ok := h.DigestChain(stored)
	if !ok || h.retired[chain[0]] {
		return false
	}
	d := h.byName[chain[len(chain)-1]].digest(value)
	for i := len(chain) - 2; i >= 0; i-- {
		d = h.byName[chain[i]].wrap(d)
	}
	return subtle.ConstantTimeCompare([]byte(d), []byte(stored)) == 1
}

// wrap re-keys digest d (plain or wrapped) under k without its value: "<k>.<d's chain>:<hex
// HMAC(k, d)>".
func (k *hashKey) wrap(d string) string {
	chain, _, _ := strings.Cut(d, ":")
	return k.version + "." + chain + ":" + hex.EncodeToString(k.sum(d))
}

// Rewrap brings digest d, plain or wrapped, under the newest key without its value: it wraps
// d by every version after its outermost one, in order, so the chain stays consecutive. A
// digest already under the newest key, or not one of this hasher's, is returned unchanged
// with false.
func (h *Hasher) Rewrap(d string) (string, bool) {
	chain, ok := h.DigestChain(d)
	if !ok || chain[0] == h.Newest() {
		return d, false
	}
	i := h.index(chain[0])
	for _, k := range h.keys[i+1:] {
		d = k.wrap(d)
	}
	return d, true
}

// DigestChain returns the versions of digest d, outermost first ("h2.h1:…" → h2, h1), and
// whether d is a digest of this hasher's form: known versions, consecutive from the
// innermost, and a hex HMAC-SHA-256.
func (h *Hasher) DigestChain(d string) ([]string, bool) {
	prefix, rest, ok := strings.Cut(d, ":")
	if !ok || len(rest) != sha256.Size*2 || !isLowerHex(rest) {
		return nil, false
	}
	chain := strings.Split(prefix, ".")
	prev := -1
	for i := len(chain) - 1; i >= 0; i-- {
		at := h.index(chain[i])
		if at < 0 || (prev >= 0 && at != prev+1) {
			return nil, false
		}
		prev = at
	}
	return chain, true
}

func (h *Hasher) index(version string) int {
	for i, k := range h.keys {
		if k.version == version {
			return i
		}
	}
	return -1
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// IsDigest reports whether v already is a digest of this hasher's form, plain or wrapped,
// under any of its versions, so erasing twice does not hash a hash.
func (h *Hasher) IsDigest(v string) bool {
	_, ok := h.DigestChain(v)
	return ok
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
