package infra_test

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// localOnlyFunctions answer only in local mode (the test clock, the embedded queue's counts
// and dead letters): the deployed package leaves them out, so the host never routes to them.
var localOnlyFunctions = readLocalOnly()

func readLocalOnly() []string {
	b, err := os.ReadFile(filepath.Join("..", "functions", "local-only.txt"))
	if err != nil {
		panic(err)
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			names = append(names, line)
		}
	}
	return names
}

// TestPackageLayout runs `make package` with a stand-in for the Go build (the real one is
// the same command with go build in place of the stand-in) and reads the zip: host.json and
// the executable handler at the root, one folder per function, the local-only ones left out.
func TestPackageLayout(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("make is not installed")
		}
		t.Skip("make is not installed")
	}
	tmp := t.TempDir()
	build := filepath.Join(tmp, "build")
	// Called as: build -o <dist>/handler ./functions
	script := "#!/bin/sh\nprintf '#!/bin/sh\\n' > \"$2\" && chmod 755 \"$2\"\n"
	if err := os.WriteFile(build, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(tmp, "package.zip")
	cmd := exec.Command("make", "-s", "package", "DIST="+filepath.Join(tmp, "dist"), "PACKAGE_ZIP="+zipPath, "HANDLER_BUILD="+build)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make package: %v\n%s", err, out)
	}

	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "/") {
			files[f.Name] = f
		}
	}
	want := []string{"handler", "host.json"}
	dirs, _ := filepath.Glob(filepath.Join("..", "functions", "*", "function.json"))
	for _, d := range dirs {
		name := filepath.Base(filepath.Dir(d))
		if !slices.Contains(localOnlyFunctions, name) {
			want = append(want, name+"/function.json")
		}
	}
	slices.Sort(want)
	if got := keysOf(files); !slices.Equal(got, want) {
		t.Errorf("package holds %v\nwant %v", got, want)
	}
	for _, name := range localOnlyFunctions {
		if _, ok := files[name+"/function.json"]; ok {
			t.Errorf("package holds %s, a local-only function", name)
		}
	}
	if h, ok := files["handler"]; !ok || h.Mode()&0o111 == 0 {
		t.Errorf("handler missing or not executable in the package")
	}
	if hj, ok := files["host.json"]; ok {
		r, err := hj.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got, _ := io.ReadAll(r)
		want, _ := os.ReadFile(filepath.Join("..", "host.json"))
		if string(got) != string(want) {
			t.Errorf("the package's host.json differs from the repository's")
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestHostJSON: what host.json must say for Flex Consumption (issue 13): a function timeout
// within the 10 minutes a function gets when the platform updates, a Service Bus lock renewed
// for as long as a function may run (or a second instance would get the message), logging
// by category with Application Insights sampling, and the handler the package ships.
func TestHostJSON(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		FunctionTimeout string
		CustomHandler   struct {
			Description struct{ DefaultExecutablePath string }
		}
		ExtensionBundle struct{ ID, Version string }
		Extensions      struct {
			ServiceBus struct{ MaxAutoLockRenewalDuration string }
		}
		Logging struct {
			LogLevel            map[string]string
			ApplicationInsights struct {
				SamplingSettings struct {
					IsEnabled     bool
					ExcludedTypes string
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	timeout := hms(t, h.FunctionTimeout)
	if timeout <= 0 || timeout > 10*time.Minute {
		t.Errorf("functionTimeout %q: want set, at most 00:10:00", h.FunctionTimeout)
	}
	if lock := hms(t, h.Extensions.ServiceBus.MaxAutoLockRenewalDuration); lock < timeout {
		t.Errorf("serviceBus.maxAutoLockRenewalDuration %s is shorter than functionTimeout %s", lock, timeout)
	}
	if h.CustomHandler.Description.DefaultExecutablePath != "handler" {
		t.Errorf("defaultExecutablePath %q, want handler (the package's root)", h.CustomHandler.Description.DefaultExecutablePath)
	}
	if h.ExtensionBundle.ID == "" {
		t.Error("extensionBundle missing: the Service Bus and timer triggers come from it")
	}
	for _, category := range []string{"default", "Host.Function.Console", "Function", "Host.Results"} {
		if h.Logging.LogLevel[category] == "" {
			t.Errorf("logging.logLevel.%s not set", category)
		}
	}
	if !h.Logging.ApplicationInsights.SamplingSettings.IsEnabled {
		t.Error("Application Insights sampling is off")
	}
}

func hms(t *testing.T, s string) time.Duration {
	t.Helper()
	var h, m, sec int
	if _, err := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec); err != nil {
		t.Errorf("%q is not hh:mm:ss", s)
		return 0
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
}
