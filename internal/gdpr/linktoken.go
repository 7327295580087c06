package gdpr

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
)

// Opt-in tokens are 256 random bits, base64url without padding: 43 characters.
const tokenLen = 43

func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("gdpr: crypto/rand failed")
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func validTokenShape(t string) bool {
	if len(t) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}

// linkTokenRule is what the token of a mailed link must be to act.
type linkTokenRule struct {
	purpose  TokenPurpose
	reusable bool   // never spent by a use (the unsubscribe link)
	gone     *Error // the answer when it cannot act
}

// linkToken finds the token a mailed link carries if it can still act: well formed, of its
// purpose, unexpired and, unless reusable, unused. Only its digest is stored (R-SIGNUP-2).
func (c *core) linkToken(ctx context.Context, tokens TokenStore, brand BrandID, token string, rule linkTokenRule) (Token, error) {
	if !validTokenShape(token) {
		return Token{}, Errorf(CodeInvalid, "token is malformed")
	}
	t, err := firstFound(c.hasher.Candidates(token), func(d string) (Token, error) { return tokens.GetToken(ctx, brand, d) })
	if errors.Is(err, ErrNotFound) {
		return Token{}, rule.gone
	}
	if err != nil {
		return Token{}, err
	}
	if t.Purpose != rule.purpose || !rule.reusable && !t.UsedAt.IsZero() || !c.clock.Now().Before(t.ExpiresAt) {
		return Token{}, rule.gone
	}
	return t, nil
}

// spendLinkToken marks a single-use token used, guarded by the version it was read at.
// ErrConflict means a concurrent use spent it first; each caller decides what that answers.
func (c *core) spendLinkToken(ctx context.Context, tokens TokenStore, t Token) error {
	t.UsedAt = c.clock.Now()
	_, err := tokens.UpdateToken(ctx, t)
	return err
}

// linkTokenProof is the reference a consent change records for the token that proved it: a
// prefix of the token's keyed digest, which carries no personal data.
func (c *core) linkTokenProof(t Token) string {
	_, sum, _ := strings.Cut(t.Digest, ":")
	return sum[:16]
}

// blacklistEntry finds an address on the brand's blacklist under any form its digest is
// stored in: plain under an active key version, or wrapped (R-MAIL-1, R-MAIL-4).
func (c *core) blacklistEntry(ctx context.Context, bl Blacklist, brand BrandID, email string) (BlacklistEntry, error) {
	return firstFound(c.hasher.EmailCandidates(email), func(d string) (BlacklistEntry, error) { return bl.GetBlacklist(ctx, brand, d) })
}

// firstFound looks a value up by each of its digests in turn (Hasher.Candidates or Digests,
// newest first) and answers the first stored; ErrNotFound when none is.
func firstFound[T any](digests []string, get func(digest string) (T, error)) (T, error) {
	for _, d := range digests {
		v, err := get(d)
		if !errors.Is(err, ErrNotFound) {
			return v, err
		}
	}
	var zero T
	return zero, ErrNotFound
}
