package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Environment variables read by Browser (printed by `tools/browser.sh env`).
const (
	EnvChromium = "POPSELL_TEST_CHROMIUM"
	EnvAxe      = "POPSELL_TEST_AXE"
)

var browserSetup = setup{
	script: "install them via tools/browser.sh",
	howTo:  `install them with: tools/browser.sh install && eval "$(tools/browser.sh env)"`,
}

// BrowserTools are what the page checks drive: a headless Chromium and axe-core's script.
type BrowserTools struct {
	Chromium string // the browser's executable
	Axe      string // axe.min.js, injected into each page
}

// Browser returns the Chromium and axe-core that tools/browser.sh installed, after checking
// that both files are there. It skips the test (fails it under CI) when either is missing.
func Browser(tb testing.TB) BrowserTools {
	tb.Helper()
	tools := BrowserTools{Chromium: os.Getenv(EnvChromium), Axe: os.Getenv(EnvAxe)}
	for _, tool := range []struct{ name, env, path string }{
		{"headless Chromium", EnvChromium, tools.Chromium},
		{"axe-core", EnvAxe, tools.Axe},
	} {
		if tool.path == "" {
			unavailableFor(tb, tool.name, tool.env+" is not set", browserSetup)
			return BrowserTools{}
		}
		if info, err := os.Stat(tool.path); err != nil || info.IsDir() {
			unavailableFor(tb, tool.name, fmt.Sprintf("%s=%s is not a file", tool.env, tool.path), browserSetup)
			return BrowserTools{}
		}
	}
	return tools
}
