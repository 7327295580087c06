package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrowser: a missing or unset tool skips the test on a developer's machine and fails it
// under CI, naming the script that installs it; both files present are handed back.
func TestBrowser(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tool")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ci, chromium, axe string
		wantSkip, wantFatal     bool
	}{
		{name: "both present, dev", chromium: file, axe: file},
		{name: "both present, CI", ci: "true", chromium: file, axe: file},
		{name: "chromium unset, dev", axe: file, wantSkip: true},
		{name: "chromium unset, CI", ci: "true", axe: file, wantFatal: true},
		{name: "axe missing, dev", chromium: file, axe: filepath.Join(dir, "absent"), wantSkip: true},
		{name: "axe a folder, CI", ci: "true", chromium: file, axe: dir, wantFatal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(EnvChromium, tc.chromium)
			t.Setenv(EnvAxe, tc.axe)
			r := &recorder{TB: t}
			got := Browser(r)
			if r.skipped != tc.wantSkip || r.failed != tc.wantFatal {
				t.Fatalf("skipped=%v failed=%v, want skip=%v fatal=%v (msg %q)", r.skipped, r.failed, tc.wantSkip, tc.wantFatal, r.msg)
			}
			if tc.wantSkip || tc.wantFatal {
				if got != (BrowserTools{}) || !strings.Contains(r.msg, "tools/browser.sh install") {
					t.Fatalf("Browser() = %+v, message %q", got, r.msg)
				}
				return
			}
			if got != (BrowserTools{Chromium: file, Axe: file}) {
				t.Fatalf("Browser() = %+v", got)
			}
		})
	}
}
