// Command datamap writes the documents generated from the data map (internal/datamapdocs)
// into the repository: `go generate ./...` runs it from docs/.
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"popsell-gdpr/internal/datamapdocs"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	files := datamapdocs.Files()
	for _, path := range slices.Sorted(maps.Keys(files)) {
		dst := filepath.Join(*root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "datamap:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(dst, files[path], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "datamap:", err)
			os.Exit(1)
		}
	}
}
