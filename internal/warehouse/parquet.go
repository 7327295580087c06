// Package warehouse writes the warehouse export's files in Apache Parquet (internal/parquet).
// Which tables and columns there are, and what goes in them, is the domain's
// (gdpr.WarehouseTables, from the data map); this package maps them to Parquet's columns and
// streams each file to blob storage, so memory is bounded by a row group, not by a brand's
// size.
package warehouse

import (
	"context"
	"fmt"
	"io"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/parquet"
)

// ContentType is the media type of the files (registered by IANA in 2024).
const ContentType = "application/vnd.apache.parquet"

// DefaultRowGroupRows is the rows of a row group: what one file being written holds in memory
// before encoding, a few megabytes for the widest table.
const DefaultRowGroupRows = parquet.DefaultRowGroupRows

// Blobs is the blob storage the files go to: blobstore.Folder or blobstore.Azure.
type Blobs interface {
	PutStream(ctx context.Context, key string, r io.Reader, contentType string) error
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Exists(ctx context.Context, key string) (bool, error)
	List(ctx context.Context, prefix string) ([]string, error)
	ListDirs(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, key string) error
}

// Files is gdpr.WarehouseFiles over blob storage, each table a Parquet file.
type Files struct {
	Blobs
	// RowGroupRows is the rows of a row group; DefaultRowGroupRows when zero.
	RowGroupRows int
}

var _ gdpr.WarehouseFiles = Files{}

// CreateTable streams a Parquet file to key through a pipe: the blob store reads what the
// encoder writes, and commits the blob only when the writer closes the pipe cleanly.
func (f Files) CreateTable(ctx context.Context, key string, t gdpr.WarehouseTable, metadata map[string]string) (gdpr.WarehouseTableWriter, error) {
	rows := f.RowGroupRows
	if rows <= 0 {
		rows = DefaultRowGroupRows
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	// The store reads as the encoder writes, so a file never sits whole in memory.
	go func() {
		err := f.PutStream(ctx, key, pr, ContentType)
		pr.CloseWithError(err) // a store that stopped reading unblocks the encoder
		done <- err
	}()
	w, err := NewWriter(pw, t, metadata, rows)
	if err != nil {
		pw.CloseWithError(err)
		<-done
		return nil, err
	}
	return &pipedWriter{Writer: w, pipe: pw, done: done}, nil
}

type pipedWriter struct {
	*parquet.Writer
	pipe *io.PipeWriter
	done chan error
}

// Close finishes the file, ends the stream and waits for the store to commit it.
func (p *pipedWriter) Close() error {
	if err := p.Writer.Close(); err != nil {
		p.pipe.CloseWithError(err)
		<-p.done
		return err
	}
	p.pipe.Close()
	return <-p.done
}

// Abort fails the stream, so the store commits nothing, and waits for it to stop.
func (p *pipedWriter) Abort(err error) {
	p.pipe.CloseWithError(fmt.Errorf("warehouse: file aborted: %w", err))
	<-p.done
}

// columns are a warehouse table's columns as Parquet's.
func columns(cols []gdpr.WarehouseColumn) ([]parquet.Column, error) {
	out := make([]parquet.Column, len(cols))
	for i, c := range cols {
		col := parquet.Column{Name: c.Name, Optional: true}
		switch c.Type {
		case gdpr.WarehouseString:
			col.Kind = parquet.String
		case gdpr.WarehouseInt:
			col.Kind, col.Optional = parquet.Int64, false
		case gdpr.WarehouseYear:
			col.Kind = parquet.Int64
		case gdpr.WarehouseBool:
			col.Kind, col.Optional = parquet.Bool, false
		case gdpr.WarehouseTimestamp:
			col.Kind = parquet.Timestamp
		case gdpr.WarehouseDecimal:
			col.Kind, col.Precision, col.Scale = parquet.Decimal, gdpr.WarehouseDecimalPrecision, gdpr.WarehouseDecimalScale
		case gdpr.WarehouseList:
			fields, err := columns(c.Fields)
			if err != nil {
				return nil, err
			}
			col.Kind, col.Optional, col.Fields = parquet.List, false, fields
		default:
			return nil, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
		}
		out[i] = col
	}
	return out, nil
}

// NewWriter starts a Parquet file of table t on w, Zstd-compressed, with metadata in its
// key-value metadata; rows are written out every rowGroupRows. Closing the file does not
// close w: the caller ends the stream, cleanly or with an error.
func NewWriter(w io.Writer, t gdpr.WarehouseTable, metadata map[string]string, rowGroupRows int) (*parquet.Writer, error) {
	cols, err := columns(t.Columns)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", t.Name, err)
	}
	return parquet.NewWriter(w, cols, parquet.Options{RowGroupRows: rowGroupRows,
		CreatedBy: "popsell-gdpr warehouse export", Metadata: metadata})
}
