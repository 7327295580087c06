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
	t, err := tokens.GetToken(ctx, brand, c.hasher.Digest(token))
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
	return strings.TrimPrefix(t.Digest, c.hasher.version+":")[:16]
}
