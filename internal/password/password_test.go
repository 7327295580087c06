package password

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBcrypt_R_SIGNUP_3(t *testing.T) {
	h, err := Bcrypt{Cost: MinCost}.Hash(t.Context(), "correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$2a$10$"), "bcrypt at the production cost")
	require.NotContains(t, h, "correct horse")
	require.True(t, Matches(h, "correct horse battery"))
	require.False(t, Matches(h, "correct horse batterz"))
	again, err := Bcrypt{Cost: MinCost}.Hash(t.Context(), "correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, h, again, "salted")
}

func TestBcryptRefusesInputItCannotHash(t *testing.T) {
	_, err := Bcrypt{Cost: MinCost}.Hash(t.Context(), strings.Repeat("x", 73))
	require.Error(t, err, "bcrypt reads 72 bytes; longer input is refused, never silently cut")
	require.NotContains(t, err.Error(), "xxxx")
}
