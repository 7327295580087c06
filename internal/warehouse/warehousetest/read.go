// Package warehousetest reads the warehouse's Parquet files back with an implementation of
// its own (parquet-go/parquet-go, not Arrow's), for tests only: what it decodes is what any
// reader of the warehouse would.
package warehousetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// File is a decoded file: its columns' names and types as the file's schema states them, its
// key-value metadata and its rows.
type File struct {
	Columns  map[string]string // leaf column name → the schema's type, e.g. "BYTE_ARRAY"
	Schema   string
	Metadata map[string]string
	Rows     []map[string]any
	Groups   int
}

// Read decodes a whole Parquet file.
func Read(data []byte) (File, error) {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return File{}, fmt.Errorf("open: %w", err)
	}
	out := File{Columns: map[string]string{}, Metadata: map[string]string{}, Schema: f.Schema().String(),
		Groups: len(f.RowGroups())}
	for _, kv := range f.Metadata().KeyValueMetadata {
		out.Metadata[kv.Key] = kv.Value
	}
	for _, path := range f.Schema().Columns() {
		leaf, _ := f.Schema().Lookup(path...)
		out.Columns[joinPath(path)] = leaf.Node.Type().String()
	}
	r := parquet.NewReader(f)
	defer r.Close()
	for {
		row := map[string]any{}
		err := r.Read(&row)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("row %d: %w", len(out.Rows), err)
		}
		out.Rows = append(out.Rows, row)
	}
}

func joinPath(p []string) string {
	s := ""
	for i, x := range p {
		if i > 0 {
			s += "."
		}
		s += x
	}
	return s
}
