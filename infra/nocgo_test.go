//go:build !cgo

package infra_test

import (
	"os"
	"testing"
)

// The template checks parse Bicep with tree-sitter, which is C: without cgo they cannot
// build. `make test` has cgo (the race detector needs gcc too).
func TestTemplatesNeedCgo(t *testing.T) {
	if os.Getenv("CI") != "" {
		t.Fatal("the Bicep checks need cgo (CGO_ENABLED=1 and gcc); they did not run")
	}
	t.Skip("the Bicep checks need cgo (CGO_ENABLED=1 and gcc): not run")
}
