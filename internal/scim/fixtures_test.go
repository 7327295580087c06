package scim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every fixture in testdata/ is named here and driven by a test; CONTRACT.md says where each
// shape comes from. TestEveryFixtureIsDriven fails when one is added without being listed.
var (
	userFixtures = []string{
		"entra-create-user.json", "entra-create-user-string-active.json",
		"okta-create-user.json", "okta-put-user.json", "okta-put-user-deactivate.json",
		"rfc-create-user-mixed-case.json", "okta-create-user-same-email.json",
	}
	patchFixtures = []string{
		"entra-patch-replace-legacy.json", "entra-patch-replace-compliant.json",
		"entra-patch-disable-legacy.json", "entra-patch-disable-compliant.json",
		"entra-patch-enable-legacy.json", "entra-patch-add-nickname.json",
		"entra-patch-add-work-email.json", "entra-patch-default-mappings.json",
		"entra-patch-no-path-add.json",
		"okta-patch-deactivate.json", "okta-patch-reactivate.json", "okta-patch-password.json",
		"rfc-patch-add-email.json", "rfc-patch-remove-filtered.json", "rfc-patch-replace-address.json",
		"entra-patch-replace-display-names.json", "rfc-patch-add-same-display-name.json",
	}
	queryFixtures = []string{
		"entra-get-by-username.query", "entra-get-by-externalid.query", "entra-test-connection.query",
		"okta-get-by-username.query", "okta-test-connection.query", "okta-import.query",
		"scim2-get-by-displayname.query",
	}
	otherFixtures = []string{"search-request.json", "filters.txt", "filters-invalid.txt", "CONTRACT.md", "error-uniqueness-emails.json"}
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func fixtureLines(t testing.TB, name string) []string {
	return strings.Split(strings.TrimSuffix(string(fixture(t, name)), "\n"), "\n")
}

func TestEveryFixtureIsDriven(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		if !e.IsDir() {
			got = append(got, e.Name())
		}
	}
	want := slices.Concat(userFixtures, patchFixtures, queryFixtures, otherFixtures)
	slices.Sort(got)
	slices.Sort(want)
	require.Equal(t, want, got)
	contract := string(fixture(t, "CONTRACT.md"))
	for _, name := range want {
		if name != "CONTRACT.md" && !strings.Contains(contract, name) &&
			!strings.Contains(contract, strings.TrimSuffix(name, ".json")+".json`") {
			t.Errorf("CONTRACT.md does not say where %s comes from", name)
		}
	}
}

// sampleUser is a user as the store would hand it to the handlers.
func sampleUser() User {
	return User{
		ID:          "m_5f3c1a9e2b7d4c8f",
		ExternalID:  "alex.martin",
		UserName:    "alex.martin@fabrikam.example.test",
		Name:        Name{GivenName: "Alex", FamilyName: "Martin", Formatted: "Alex Martin"},
		DisplayName: "Alex Martin", Title: "Store Manager", PreferredLanguage: "fr-FR",
		Emails: []Email{
			{Value: "alex.martin@fabrikam.example.test", Type: "work", Primary: true},
			{Value: "alex@home.example.test", Type: "home"},
		},
		Addresses: []Address{{StreetAddress: "12 rue de la Republique", Locality: "Lyon", PostalCode: "69002", Country: "FR", Type: "work", Primary: true}},
		Active:    Bool(true),
	}
}

var offsetSuffix = regexp.MustCompile(` \(at byte \d+\)$`)

// requireSafeError checks the privacy rule: err is an *Error of the given scimType whose
// detail is one of the fixed sentences (so it quotes nothing from the request), and no run of
// 6 or more bytes of input appears in it unless that run is part of the fixed text itself.
func requireSafeError(t testing.TB, err error, scimType string, input string) {
	t.Helper()
	if msg := unsafeError(err, scimType, input); msg != "" {
		t.Fatal(msg)
	}
}

var catalogue = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range detailCatalogue {
		m[s] = true
	}
	return m
}()

// unsafeError returns what is wrong with err, or "". No testify here: the fuzz targets call
// it on every refused input, and the fuzzer's minimiser calls them thousands of times more.
func unsafeError(err error, scimType string, input string) string {
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Sprintf("error %v is not an *Error", err)
	}
	if e.ScimType == "" || scimType != "" && e.ScimType != scimType {
		return fmt.Sprintf("scimType %q, want %q (detail: %s)", e.ScimType, scimType, e.Detail)
	}
	base := offsetSuffix.ReplaceAllString(e.Detail, "")
	if !catalogue[base] {
		return fmt.Sprintf("detail %q is not a catalogued sentence", e.Detail)
	}
	fixed := (&Error{Status: e.Status, ScimType: e.ScimType, Detail: base}).Error()
	if leak := leakedRun(e.Error(), fixed, input); leak != "" {
		return fmt.Sprintf("error %q contains %q from the input", e.Error(), leak)
	}
	return ""
}

// leakedRun returns a run of 6 or more bytes that msg and input share and the fixed text of
// the error (its catalogued sentence, status and scimType) does not contain, or "".
func leakedRun(msg, fixed, input string) string {
	const n = 6
	for i := 0; i+n <= len(msg); i++ {
		if w := msg[i : i+n]; !strings.Contains(fixed, w) && strings.Contains(input, w) {
			return w
		}
	}
	return ""
}

func TestUnsafeError_catchesWhatItMust(t *testing.T) {
	require.Empty(t, unsafeError(atByte(badRequest(ScimTypeInvalidFilter, msgFilterEmpty), 3), ScimTypeInvalidFilter, "x"))
	require.NotEmpty(t, unsafeError(errors.New("plain"), "", ""))
	require.NotEmpty(t, unsafeError(badRequest("", msgFilterEmpty), "", ""), "a 400 without scimType")
	require.NotEmpty(t, unsafeError(badRequest(ScimTypeInvalidPath, msgFilterEmpty), ScimTypeInvalidFilter, ""))
	require.NotEmpty(t, unsafeError(badRequest(ScimTypeInvalidFilter, "bad value secret.person@example.test"), "", `userName eq "secret.person@example.test"`))
	// Only the offset varies; were it ever to carry input, the run check would see it.
	require.NotEmpty(t, unsafeError(atByte(badRequest(ScimTypeInvalidFilter, msgFilterEmpty), 1234567), "", "id eq 1234567"))
	// A run the sentence itself contains is no leak.
	require.Empty(t, unsafeError(badRequest(ScimTypeInvalidValue, msgUserNameRequired), "", `{"op":"remove","path":"userName"}`))
}
