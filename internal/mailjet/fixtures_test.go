package mailjet

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// The wire fixtures, copied from ../shared/wire/mailjet/ (CONTRACT.md beside them says where
// each fact comes from).
var (
	singleEventFixtures = []string{
		"events-single-sent.json", "events-single-open.json", "events-single-click.json",
		"events-single-bounce.json", "events-single-blocked.json", "events-single-spam.json",
		"events-single-unsub.json",
	}
	groupedEventFixture = "events-grouped.json"
)

func eventFixtures() []string { return append(slices.Clone(singleEventFixtures), groupedEventFixture) }

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}
