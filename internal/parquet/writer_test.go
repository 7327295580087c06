package parquet_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/parquet"
)

var columns = []parquet.Column{
	{Name: "id", Kind: parquet.String, Optional: true},
	{Name: "n", Kind: parquet.Int64},
	{Name: "year", Kind: parquet.Int64, Optional: true},
	{Name: "ok", Kind: parquet.Bool},
	{Name: "at", Kind: parquet.Timestamp, Optional: true},
	{Name: "amount", Kind: parquet.Decimal, Optional: true, Precision: 16, Scale: 4},
	{Name: "items", Kind: parquet.List, Fields: []parquet.Column{
		{Name: "sku", Kind: parquet.String, Optional: true},
		{Name: "qty", Kind: parquet.Int64},
		{Name: "price", Kind: parquet.Decimal, Precision: 9, Scale: 2},
		{Name: "gift", Kind: parquet.Bool},
	}},
}

// read decodes a file with parquet-go: an implementation of its own, as any reader of the
// files would.
func read(t *testing.T, data []byte) (*pq.File, []map[string]any) {
	t.Helper()
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	r := pq.NewReader(f)
	defer r.Close()
	var rows []map[string]any
	for {
		row := map[string]any{}
		err := r.Read(&row)
		if errors.Is(err, io.EOF) {
			return f, rows
		}
		require.NoError(t, err, "row %d", len(rows))
		rows = append(rows, row)
	}
}

func randomRow(r *rand.Rand) []any {
	maybe := func(v any) any {
		if r.IntN(4) == 0 {
			return nil
		}
		return v
	}
	items := make([][]any, r.IntN(4))
	for i := range items {
		items[i] = []any{maybe(fmt.Sprintf("sku-%d", r.IntN(1000))), r.Int64N(1e6) - 5e5,
			r.Int64N(2e9) - 1e9, r.IntN(2) == 0}
	}
	return []any{maybe(fmt.Sprintf("id-%d-é", r.Int())), r.Int64() - r.Int64(), maybe(int64(1900 + r.IntN(150))),
		r.IntN(3) == 0, maybe(time.UnixMicro(r.Int64N(4e15)).UTC()), maybe(r.Int64N(2e16-1) - (1e16 - 1)), items}
}

// want is what a reader decodes of a row: parquet-go gives a timestamp as its microseconds
// and a decimal as an exact big.Float.
func want(row []any) map[string]any {
	out := map[string]any{}
	for i, c := range columns {
		out[c.Name] = decoded(c, row[i])
	}
	return out
}

func decoded(c parquet.Column, v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UnixMicro()
	case int64:
		if c.Kind == parquet.Decimal {
			f := new(big.Float).SetPrec(192).SetInt64(x)
			return f.Quo(f, new(big.Float).SetPrec(192).SetInt64(pow10(c.Scale))).Text('f', 10)
		}
	case [][]any:
		if len(x) == 0 {
			return []any(nil)
		}
		elems := make([]any, len(x))
		for i, e := range x {
			m := map[string]any{}
			for k, f := range c.Fields {
				m[f.Name] = decoded(f, e[k])
			}
			elems[i] = m
		}
		return elems
	}
	return v
}

// got normalises what parquet-go decoded for comparison with want.
func got(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, y := range x {
			m[k] = got(y)
		}
		return m
	case []any:
		if len(x) == 0 {
			return []any(nil)
		}
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = got(y)
		}
		return out
	case *big.Float:
		return x.Text('f', 10)
	}
	return v
}

// TestRowsReadBackByAnIndependentReader: random rows of every kind, nulls, empty and long
// lists, negative decimals, over many row groups, decode to what was written.
func TestRowsReadBackByAnIndependentReader(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, columns, parquet.Options{RowGroupRows: 7, CreatedBy: "test",
		Metadata: map[string]string{"b": "2", "a": "1"}})
	require.NoError(t, err)
	var rows [][]any
	for range 250 {
		row := randomRow(r)
		rows = append(rows, row)
		require.NoError(t, w.Write(row))
	}
	require.NoError(t, w.Close())

	f, decodedRows := read(t, buf.Bytes())
	require.Len(t, f.RowGroups(), 36)
	require.Equal(t, "test", f.Metadata().CreatedBy)
	kv := map[string]string{}
	for _, x := range f.Metadata().KeyValueMetadata {
		kv[x.Key] = x.Value
	}
	require.Equal(t, map[string]string{"a": "1", "b": "2"}, kv)
	require.Len(t, decodedRows, len(rows))
	for i, row := range rows {
		require.Equal(t, want(row), got(decodedRows[i]), "row %d", i)
	}
}

// TestSchemaAsReadersSeeIt: the physical and logical types readers map to their own.
func TestSchemaAsReadersSeeIt(t *testing.T) {
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, columns, parquet.Options{})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	f, rows := read(t, buf.Bytes())
	require.Empty(t, rows)
	require.Empty(t, f.RowGroups())
	require.Equal(t, `message schema {
	optional binary id (STRING);
	required int64 n (INT(64,true));
	optional int64 year (INT(64,true));
	required boolean ok;
	optional int64 at (TIMESTAMP(isAdjustedToUTC=true,unit=MICROS));
	optional fixed_len_byte_array(7) amount (DECIMAL(16,4));
	required group items (LIST) {
		repeated group list {
			required group element {
				optional binary sku (STRING);
				required int64 qty (INT(64,true));
				required fixed_len_byte_array(4) price (DECIMAL(9,2));
				required boolean gift;
			}
		}
	}
}`, f.Schema().String())
}

// TestDecimalWidths: a DECIMAL's bytes are the fewest that hold its precision, as readers
// (and the format's specification) expect.
func TestDecimalWidths(t *testing.T) {
	widths := map[int]int{1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 9: 4, 10: 5, 11: 5, 12: 6, 14: 6, 15: 7, 16: 7, 17: 8, 18: 8}
	for p, width := range widths {
		var buf bytes.Buffer
		w, err := parquet.NewWriter(&buf, []parquet.Column{{Name: "d", Kind: parquet.Decimal, Precision: p}}, parquet.Options{})
		require.NoError(t, err)
		largest := pow10(p) - 1
		for _, v := range []int64{largest, -largest, 0, -1} {
			require.NoError(t, w.Write([]any{v}))
		}
		require.Error(t, w.Write([]any{largest + 1}), "precision %d", p)
		require.NoError(t, w.Close())
		f, rows := read(t, buf.Bytes())
		require.Contains(t, f.Schema().String(), fmt.Sprintf("fixed_len_byte_array(%d) d", width), "precision %d", p)
		require.Equal(t, fmt.Sprintf("%d.0000000000", -largest), got(rows[1]["d"]))
		require.Equal(t, "-1.0000000000", got(rows[3]["d"]))
	}
}

// TestARefusedRowChangesNothing: a row that does not fit its columns is refused whole, even
// when the misfit is deep in a list, and the file goes on.
func TestARefusedRowChangesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, columns, parquet.Options{RowGroupRows: 2})
	require.NoError(t, err)
	first := randomRow(r)
	require.NoError(t, w.Write(first))
	for _, bad := range []func([]any){
		func(row []any) { row[1] = nil },         // null in a required column
		func(row []any) { row[0] = 42 },          // not a string
		func(row []any) { row[5] = int64(1e16) }, // more digits than DECIMAL(16, 4)
		func(row []any) { row[6] = [][]any{{"a", int64(1), int64(1), true}, {"b", "1", int64(1), true}} },
		func(row []any) { row[6] = [][]any{{"a", int64(1)}} }, // a record too short
	} {
		row := randomRow(r)
		row[6] = [][]any{{"x", int64(1), int64(2), false}}
		bad(row)
		err := w.Write(row)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "id-", "errors never echo values")
	}
	require.Error(t, w.Write(first[:3]))
	last := randomRow(r)
	require.NoError(t, w.Write(last))
	require.NoError(t, w.Close())
	_, rows := read(t, buf.Bytes())
	require.Equal(t, []any{want(first), want(last)}, []any{got(rows[0]), got(rows[1])})
	require.Len(t, rows, 2)
}

// TestColumnsAreChecked: what the format cannot hold is refused when the file starts.
func TestColumnsAreChecked(t *testing.T) {
	for name, cols := range map[string][]parquet.Column{
		"none":          nil,
		"unnamed":       {{Kind: parquet.String}},
		"twice":         {{Name: "a", Kind: parquet.String}, {Name: "a", Kind: parquet.Int64}},
		"no kind":       {{Name: "a"}},
		"wide decimal":  {{Name: "a", Kind: parquet.Decimal, Precision: 19}},
		"scale>prec":    {{Name: "a", Kind: parquet.Decimal, Precision: 2, Scale: 3}},
		"optional list": {{Name: "a", Kind: parquet.List, Optional: true, Fields: []parquet.Column{{Name: "b", Kind: parquet.Bool}}}},
		"list in list": {{Name: "a", Kind: parquet.List, Fields: []parquet.Column{{Name: "b", Kind: parquet.List,
			Fields: []parquet.Column{{Name: "c", Kind: parquet.Bool}}}}}},
		"empty record": {{Name: "a", Kind: parquet.List}},
	} {
		_, err := parquet.NewWriter(io.Discard, cols, parquet.Options{})
		require.Error(t, err, name)
	}
}

// TestAFailingSinkFailsTheFile: a sink that stops taking bytes fails the file, and Close
// reports it rather than claiming a file.
func TestAFailingSinkFailsTheFile(t *testing.T) {
	sink := &limited{left: 100}
	w, err := parquet.NewWriter(sink, columns, parquet.Options{RowGroupRows: 1})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(5, 6))
	var failed error
	for range 10_000 {
		if failed = w.Write(randomRow(r)); failed != nil {
			break
		}
	}
	require.ErrorIs(t, failed, errFull)
	require.ErrorIs(t, w.Close(), errFull)
}

var errFull = errors.New("full")

type limited struct{ left int }

func (l *limited) Write(p []byte) (int, error) {
	if len(p) > l.left {
		n := l.left
		l.left = 0
		return n, errFull
	}
	l.left -= len(p)
	return len(p), nil
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
