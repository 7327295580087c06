// Package testenv gives tests the local emulators started by tools/emulators.sh:
// the Cosmos DB emulator and Azurite (blob); and the headless browser and axe-core that
// tools/browser.sh installs (browser.go).
//
// Start them, then run the tests:
//
//	tools/emulators.sh install && tools/emulators.sh start && eval "$(tools/emulators.sh env)"
//	go test ./...
//
// When an emulator is not configured or does not answer, the test is skipped on a
// developer machine and fails under CI (env CI non-empty), so CI can never pass by
// silently skipping the integration tests.
//
// Both emulators keep data in memory and are shared by every test package of a run
// (go test runs packages in parallel): use Name for database, container and blob
// container names so that tests never see each other's data.
package testenv

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Environment variables read by Cosmos and Azurite (printed by `tools/emulators.sh env`).
const (
	EnvCosmosEndpoint          = "POPSELL_TEST_COSMOS_ENDPOINT"
	EnvAzuriteConnectionString = "POPSELL_TEST_AZURITE_CONNECTION_STRING"
)

// CosmosEmulatorKey is the well-known, public Cosmos DB emulator key. The local
// emulator checks no key, but azcosmos.NewKeyCredential base64-decodes it, so it must
// be exactly this (a mistyped copy fails with "illegal base64 data").
const CosmosEmulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

const howToRun = `start them with: tools/emulators.sh install && tools/emulators.sh start && eval "$(tools/emulators.sh env)"`

// probeTimeout bounds the HTTP GET that checks an emulator answers.
const probeTimeout = 3 * time.Second

// Cosmos returns the endpoint and key of the Cosmos DB emulator, after checking that
// it answers. It skips the test (fails it under CI) when the emulator is not available.
func Cosmos(tb testing.TB) (endpoint, key string) {
	tb.Helper()
	endpoint = os.Getenv(EnvCosmosEndpoint)
	if endpoint == "" {
		unavailable(tb, "Cosmos DB emulator", EnvCosmosEndpoint+" is not set")
		return "", ""
	}
	if err := probe(endpoint); err != nil {
		unavailable(tb, "Cosmos DB emulator", fmt.Sprintf("%s=%s does not answer: %v", EnvCosmosEndpoint, endpoint, err))
		return "", ""
	}
	return endpoint, CosmosEmulatorKey
}

// Azurite returns the connection string of the Azurite blob emulator, after checking
// that its blob endpoint answers. It skips the test (fails it under CI) when the
// emulator is not available.
func Azurite(tb testing.TB) (connectionString string) {
	tb.Helper()
	connectionString = os.Getenv(EnvAzuriteConnectionString)
	if connectionString == "" {
		unavailable(tb, "Azurite blob emulator", EnvAzuriteConnectionString+" is not set")
		return ""
	}
	blobEndpoint, err := BlobEndpoint(connectionString)
	if err != nil {
		// A malformed value is a configuration mistake, not a missing emulator.
		tb.Fatalf("testenv: %s: %v", EnvAzuriteConnectionString, err)
		return ""
	}
	if err := probe(blobEndpoint); err != nil {
		unavailable(tb, "Azurite blob emulator", fmt.Sprintf("blob endpoint %s (from %s) does not answer: %v", blobEndpoint, EnvAzuriteConnectionString, err))
		return ""
	}
	return connectionString
}

// BlobEndpoint returns the blob service URL of a storage connection string: its
// BlobEndpoint, or Azurite's default for UseDevelopmentStorage=true.
func BlobEndpoint(connectionString string) (string, error) {
	fields := map[string]string{}
	for _, part := range strings.Split(connectionString, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[strings.ToLower(k)] = v
		}
	}
	if ep := fields["blobendpoint"]; ep != "" {
		return ep, nil
	}
	if strings.EqualFold(fields["usedevelopmentstorage"], "true") {
		return "http://127.0.0.1:10000/devstoreaccount1", nil
	}
	return "", fmt.Errorf("connection string has no BlobEndpoint (nor UseDevelopmentStorage=true)")
}

// Decision is what a test does when an emulator is missing.
type Decision struct {
	Fatal   bool   // fail the test (CI) rather than skip it
	Message string // what to print
}

// Decide says what to do when the emulator named what is unavailable for reason,
// given the value of the CI environment variable: fail when ci is non-empty (CI must
// start the emulators), skip otherwise.
func Decide(ci, what, reason string) Decision {
	return decide(ci, what, reason, emulatorsSetup)
}

// setup is how a machine gets what a test needs: the tools/ script CI must run, and the
// commands that run it.
type setup struct{ script, howTo string }

var emulatorsSetup = setup{"start the emulators via tools/emulators.sh", howToRun}

func decide(ci, what, reason string, s setup) Decision {
	if ci != "" {
		return Decision{
			Fatal: true,
			Message: fmt.Sprintf("testenv: %s unavailable under CI (CI=%q): %s. CI must %s (see .ci/run): %s",
				what, ci, reason, s.script, s.howTo),
		}
	}
	return Decision{
		Message: fmt.Sprintf("testenv: skipping, %s unavailable: %s. To run this test, %s", what, reason, s.howTo),
	}
}

func unavailable(tb testing.TB, what, reason string) {
	tb.Helper()
	unavailableFor(tb, what, reason, emulatorsSetup)
}

func unavailableFor(tb testing.TB, what, reason string, s setup) {
	tb.Helper()
	d := decide(os.Getenv("CI"), what, reason, s)
	if d.Fatal {
		tb.Fatal(d.Message)
		return
	}
	tb.Skip(d.Message)
}

// probe checks that url answers HTTP at all (any status code). TLS certificates are not
// verified: this is only a liveness check of a local emulator and sends no credentials.
func probe(url string) error {
	client := &http.Client{
		Timeout: probeTimeout,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // liveness probe only
			DisableKeepAlives: true,
			Proxy:             nil, // loopback emulators: never go through HTTP(S)_PROXY
		},
	}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Name returns a fresh name for a database, container or blob container, unique across
// tests and test processes sharing one emulator: lowercase letters, digits and single
// hyphens, at most 63 characters, valid for both Cosmos DB and Blob storage.
func Name(tb testing.TB, prefix string) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("testenv: random name: %v", err)
	}
	return SanitizeName(prefix) + "-" + hex.EncodeToString(b[:])
}

// SanitizeName keeps lowercase letters and digits of s, turns every other run of
// characters into a single hyphen, and trims it to 50 characters ("t" when empty).
func SanitizeName(s string) string {
	var sb strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			sb.WriteRune(r)
			hyphen = false
		case !hyphen && sb.Len() > 0:
			sb.WriteByte('-')
			hyphen = true
		}
	}
	out := strings.TrimRight(sb.String(), "-")
	if len(out) > 50 {
		out = strings.TrimRight(out[:50], "-")
	}
	if out == "" {
		out = "t"
	}
	return out
}
