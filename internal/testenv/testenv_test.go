package testenv

import (
	"encoding/base64"
	"net"
	"regexp"
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		ci        string
		wantFatal bool
	}{
		{ci: "", wantFatal: false},
		{ci: "true", wantFatal: true},
		{ci: "1", wantFatal: true},
	} {
		d := Decide(tc.ci, "Cosmos DB emulator", "X is not set")
		if d.Fatal != tc.wantFatal {
			t.Errorf("Decide(CI=%q).Fatal = %v, want %v", tc.ci, d.Fatal, tc.wantFatal)
		}
		for _, want := range []string{"Cosmos DB emulator", "X is not set", "tools/emulators.sh install && tools/emulators.sh start"} {
			if !strings.Contains(d.Message, want) {
				t.Errorf("Decide(CI=%q).Message = %q, missing %q", tc.ci, d.Message, want)
			}
		}
	}
}

// recorder is a testing.TB that records Skip/Fatal instead of stopping the test.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped = true; r.msg = args[0].(string) }
func (r *recorder) Fatal(args ...any) { r.failed = true; r.msg = args[0].(string) }

// closedURL returns a loopback URL on which nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/"
}

func TestUnavailable(t *testing.T) {
	down := closedURL(t)
	for _, tc := range []struct {
		name, ci, endpoint string
		wantFatal          bool
	}{
		{"unset, dev", "", "", false},
		{"unset, CI", "true", "", true},
		{"down, dev", "", down, false},
		{"down, CI", "true", down, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(EnvCosmosEndpoint, tc.endpoint)
			t.Setenv(EnvAzuriteConnectionString, "")
			if tc.endpoint != "" {
				t.Setenv(EnvAzuriteConnectionString, "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;BlobEndpoint="+tc.endpoint+"devstoreaccount1;")
			}
			for _, call := range []func(tb testing.TB) string{
				func(tb testing.TB) string { e, _ := Cosmos(tb); return e },
				Azurite,
			} {
				r := &recorder{TB: t}
				if got := call(r); got != "" {
					t.Errorf("got %q, want empty", got)
				}
				if r.failed != tc.wantFatal || r.skipped == tc.wantFatal {
					t.Errorf("failed=%v skipped=%v, want fatal=%v (msg %q)", r.failed, r.skipped, tc.wantFatal, r.msg)
				}
			}
		})
	}
}

func TestBlobEndpoint(t *testing.T) {
	for cs, want := range map[string]string{
		"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=k==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;": "http://127.0.0.1:10000/devstoreaccount1",
		"UseDevelopmentStorage=true": "http://127.0.0.1:10000/devstoreaccount1",
		"AccountName=a;AccountKey=k": "",
	} {
		got, err := BlobEndpoint(cs)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("BlobEndpoint(%q) = %q, %v; want %q", cs, got, err, want)
		}
	}
}

func TestName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9](-?[a-z0-9])+$`)
	for _, prefix := range []string{"TestStore/Put_item", "", "---", strings.Repeat("Ab_", 40)} {
		a, b := Name(t, prefix), Name(t, prefix)
		if a == b {
			t.Errorf("Name(%q) twice gave %q", prefix, a)
		}
		if len(a) < 3 || len(a) > 63 || !valid.MatchString(a) {
			t.Errorf("Name(%q) = %q: not a valid container name", prefix, a)
		}
	}
	if got := SanitizeName("TestStore/Put_item"); got != "teststore-put-item" {
		t.Errorf("SanitizeName = %q", got)
	}
}

// TestEmulators checks the emulators when they are configured (skips otherwise, fails
// under CI if they are missing: that is the point of running it in CI).
func TestEmulators(t *testing.T) {
	t.Run("cosmos", func(t *testing.T) {
		endpoint, key := Cosmos(t)
		if endpoint == "" || key != CosmosEmulatorKey {
			t.Fatalf("Cosmos() = %q, %q", endpoint, key)
		}
	})
	t.Run("azurite", func(t *testing.T) {
		if cs := Azurite(t); !strings.Contains(cs, "AccountName=devstoreaccount1") {
			t.Fatalf("Azurite() = %q", cs)
		}
	})
}

func TestCosmosEmulatorKeyIsBase64(t *testing.T) {
	if _, err := base64.StdEncoding.DecodeString(CosmosEmulatorKey); err != nil {
		t.Fatalf("CosmosEmulatorKey: %v", err)
	}
}
