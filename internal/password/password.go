// Package password hashes member passwords with bcrypt (R-SIGNUP-3).
package password

import (
	"context"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"popsell-gdpr/internal/gdpr"
)

// MinCost is the least bcrypt cost accepted in production.
const MinCost = 10

// Bcrypt implements gdpr.PasswordHasher.
type Bcrypt struct{ Cost int }

var _ gdpr.PasswordHasher = Bcrypt{}

func (b Bcrypt) Hash(_ context.Context, pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), b.Cost)
	if err != nil {
		return "", fmt.Errorf("password: bcrypt failed") // never wrap: the cause may quote input
	}
	return string(h), nil
}

// Matches reports whether pw matches the hash; sign-in (outside this service) uses the same.
func Matches(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
