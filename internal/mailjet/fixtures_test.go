package mailjet

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// The wire fixtures, copied from ../shared/wire/mailjet/ (CONTRACT.md beside them says where
// each fact comes from). Every one is driven by a test of this package; the listing test
// below fails when a fixture is added without being named here, so none goes untested.
var (
	singleEventFixtures = []string{
		"events-single-sent.json", "events-single-open.json", "events-single-click.json",
		"events-single-bounce.json", "events-single-blocked.json", "events-single-spam.json",
		"events-single-unsub.json",
	}
	groupedEventFixture = "events-grouped.json"
	sendFixtures        = []string{
		"send-v31-request.json", "send-v31-request-inline-html.json",
		"send-v31-response-success.json", "send-v31-response-sandbox.json",
		"send-v31-response-error.json", "send-v31-response-error-global.json",
		"send-v31-response-5xx.json", "send-v31-response-429.html",
	}
)

func eventFixtures() []string { return append(slices.Clone(singleEventFixtures), groupedEventFixture) }

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestEveryFixtureIsDriven(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	require.NoError(t, err)
	var onDisk []string
	for _, e := range entries {
		if e.Name() != "CONTRACT.md" && !e.IsDir() {
			onDisk = append(onDisk, e.Name())
		}
	}
	named := append(eventFixtures(), sendFixtures...)
	slices.Sort(onDisk)
	slices.Sort(named)
	require.Equal(t, named, onDisk, "a fixture in testdata/ is not driven by a test, or a named one is missing")
}
