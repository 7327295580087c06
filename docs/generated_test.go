package docs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"popsell-gdpr/internal/datamapdocs"
)

// TestGeneratedFilesAreUpToDate: the committed Fides dataset and record of processing
// activities are what the data map generates today.
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	for path, want := range datamapdocs.Files() {
		got, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
		if err != nil {
			t.Errorf("%s: %v; run go generate ./...", path, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what internal/gdpr/datamap.go generates; run go generate ./...", path)
		}
	}
}
