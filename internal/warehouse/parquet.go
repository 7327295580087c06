// Package warehouse writes the warehouse export's files in Apache Parquet, through Apache
// Arrow's Go module: the format only. Which tables and columns there are, and what goes in
// them, is the domain's (gdpr.WarehouseTables, from the data map); this package turns the
// rows it is handed into Zstd-compressed row groups and streams each file to blob storage,
// so memory is bounded by a row group, not by a brand's size.
package warehouse

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"popsell-gdpr/internal/gdpr"
)

// ContentType is the media type of the files (registered by IANA in 2024).
const ContentType = "application/vnd.apache.parquet"

// DefaultRowGroupRows is the rows of a row group: what one file being written holds in memory
// before encoding, a few megabytes for the widest table.
const DefaultRowGroupRows = 32 * 1024

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
	// The store reads from the start: the encoder writes the file's magic number at once.
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
	*Writer
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

// Writer encodes one table's rows as a Parquet file.
type Writer struct {
	fw      *pqarrow.FileWriter
	schema  *arrow.Schema
	builder *array.RecordBuilder
	append  []func(any) error
	rows    int
	perRG   int
}

// Schema is the Arrow schema of a warehouse table.
func Schema(t gdpr.WarehouseTable) (*arrow.Schema, error) {
	fields, err := arrowFields(t.Columns)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", t.Name, err)
	}
	return arrow.NewSchema(fields, nil), nil
}

func arrowFields(cols []gdpr.WarehouseColumn) ([]arrow.Field, error) {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		f := arrow.Field{Name: c.Name, Nullable: true}
		switch c.Type {
		case gdpr.WarehouseString:
			f.Type = arrow.BinaryTypes.String
		case gdpr.WarehouseInt:
			f.Type, f.Nullable = arrow.PrimitiveTypes.Int64, false
		case gdpr.WarehouseYear:
			f.Type = arrow.PrimitiveTypes.Int64
		case gdpr.WarehouseBool:
			f.Type, f.Nullable = arrow.FixedWidthTypes.Boolean, false
		case gdpr.WarehouseTimestamp:
			f.Type = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
		case gdpr.WarehouseDecimal:
			f.Type = &arrow.Decimal128Type{Precision: gdpr.WarehouseDecimalPrecision, Scale: gdpr.WarehouseDecimalScale}
		case gdpr.WarehouseList:
			sub, err := arrowFields(c.Fields)
			if err != nil {
				return nil, err
			}
			f.Type, f.Nullable = arrow.ListOfNonNullable(arrow.StructOf(sub...)), false
		default:
			return nil, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
		}
		fields[i] = f
	}
	return fields, nil
}

// NewWriter starts a Parquet file of table t on w, Zstd-compressed, with metadata in its
// key-value metadata; rows are written out every rowGroupRows.
func NewWriter(w io.Writer, t gdpr.WarehouseTable, metadata map[string]string, rowGroupRows int) (*Writer, error) {
	schema, err := Schema(t)
	if err != nil {
		return nil, err
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(int64(rowGroupRows)), parquet.WithCreatedBy("popsell-gdpr warehouse export"))
	// The sink is wrapped so that closing the file does not close w: the caller ends the
	// stream, cleanly or with an error.
	fw, err := pqarrow.NewFileWriter(schema, struct{ io.Writer }{w}, props, pqarrow.NewArrowWriterProperties(
		pqarrow.WithCoerceTimestamps(arrow.Microsecond)))
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", t.Name, err)
	}
	for k, v := range metadata {
		if err := fw.AppendKeyValueMetadata(k, v); err != nil {
			return nil, err
		}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	wr := &Writer{fw: fw, schema: schema, builder: b, perRG: rowGroupRows}
	for i, c := range t.Columns {
		wr.append = append(wr.append, appender(c, b.Field(i)))
	}
	return wr, nil
}

// Write appends a row, one value per column, as gdpr.WarehouseTable describes them.
func (w *Writer) Write(row []any) error {
	if len(row) != len(w.append) {
		return fmt.Errorf("warehouse: a row of %d values for %d columns", len(row), len(w.append))
	}
	for i, v := range row {
		if err := w.append[i](v); err != nil {
			return err
		}
	}
	if w.rows++; w.rows >= w.perRG {
		return w.flush()
	}
	return nil
}

// flush writes the rows built so far as one row group.
func (w *Writer) flush() error {
	if w.rows == 0 {
		return nil
	}
	rec := w.builder.NewRecordBatch()
	defer rec.Release()
	w.rows = 0
	return w.fw.Write(rec)
}

// Close writes the last row group and the footer.
func (w *Writer) Close() error {
	defer w.builder.Release()
	if err := w.flush(); err != nil {
		return err
	}
	return w.fw.Close()
}

// appender appends one column's value; nil is null.
func appender(c gdpr.WarehouseColumn, b array.Builder) func(any) error {
	bad := func(v any) error { return fmt.Errorf("warehouse: column %s: a %T", c.Name, v) }
	switch c.Type {
	case gdpr.WarehouseString:
		sb := b.(*array.StringBuilder)
		return func(v any) error {
			switch s := v.(type) {
			case nil:
				sb.AppendNull()
			case string:
				sb.Append(s)
			default:
				return bad(v)
			}
			return nil
		}
	case gdpr.WarehouseInt, gdpr.WarehouseYear:
		ib := b.(*array.Int64Builder)
		return func(v any) error {
			switch n := v.(type) {
			case nil:
				if c.Type == gdpr.WarehouseInt {
					return bad(v)
				}
				ib.AppendNull()
			case int64:
				ib.Append(n)
			default:
				return bad(v)
			}
			return nil
		}
	case gdpr.WarehouseBool:
		bb := b.(*array.BooleanBuilder)
		return func(v any) error {
			x, ok := v.(bool)
			if !ok {
				return bad(v)
			}
			bb.Append(x)
			return nil
		}
	case gdpr.WarehouseTimestamp:
		tb := b.(*array.TimestampBuilder)
		return func(v any) error {
			switch t := v.(type) {
			case nil:
				tb.AppendNull()
			case time.Time:
				tb.Append(arrow.Timestamp(t.UnixMicro()))
			default:
				return bad(v)
			}
			return nil
		}
	case gdpr.WarehouseDecimal:
		db := b.(*array.Decimal128Builder)
		return func(v any) error {
			switch n := v.(type) {
			case nil:
				db.AppendNull()
			case int64:
				db.Append(decimal128.FromI64(n))
			default:
				return bad(v)
			}
			return nil
		}
	case gdpr.WarehouseList:
		lb := b.(*array.ListBuilder)
		sb := lb.ValueBuilder().(*array.StructBuilder)
		fields := make([]func(any) error, len(c.Fields))
		for i, f := range c.Fields {
			fields[i] = appender(f, sb.FieldBuilder(i))
		}
		return func(v any) error {
			elems, ok := v.([][]any)
			if !ok {
				return bad(v)
			}
			lb.Append(true)
			for _, e := range elems {
				if len(e) != len(fields) {
					return bad(e)
				}
				sb.Append(true)
				for i, x := range e {
					if err := fields[i](x); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	return func(v any) error { return bad(v) }
}
