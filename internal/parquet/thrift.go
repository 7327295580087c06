package parquet

import "encoding/binary"

// Thrift's compact protocol, as much of it as a Parquet footer and page header need: a
// writer only. Field ids are parquet.thrift's (parquet-format); a struct's fields are
// written in ascending id order, so each header is the short delta form when it can be.
const (
	thriftTrue   = 1
	thriftFalse  = 2
	thriftI8     = 3
	thriftI16    = 4
	thriftI32    = 5
	thriftI64    = 6
	thriftBinary = 8
	thriftList   = 9
	thriftStruct = 12
)

type compact struct {
	buf    []byte
	lastID int16
	stack  []int16 // the enclosing structs' last field ids
}

func (c *compact) field(id int16, typ byte) {
	if d := id - c.lastID; d > 0 && d <= 15 {
		c.buf = append(c.buf, byte(d)<<4|typ)
	} else {
		c.buf = append(c.buf, typ)
		c.buf = binary.AppendUvarint(c.buf, uint64(uint16(id<<1^id>>15)))
	}
	c.lastID = id
}

func (c *compact) i8(id int16, v int8) {
	c.field(id, thriftI8)
	c.buf = append(c.buf, byte(v))
}

func (c *compact) i16(id int16, v int16) {
	c.field(id, thriftI16)
	c.buf = binary.AppendUvarint(c.buf, uint64(uint16(v<<1^v>>15)))
}

func (c *compact) i32(id int16, v int32) {
	c.field(id, thriftI32)
	c.buf = binary.AppendUvarint(c.buf, uint64(uint32(v<<1^v>>31)))
}

func (c *compact) i64(id int16, v int64) {
	c.field(id, thriftI64)
	c.buf = binary.AppendUvarint(c.buf, uint64(v<<1^v>>63))
}

func (c *compact) bool(id int16, v bool) {
	if v {
		c.field(id, thriftTrue)
	} else {
		c.field(id, thriftFalse)
	}
}

func (c *compact) binary(id int16, s string) {
	c.field(id, thriftBinary)
	c.str(s)
}

func (c *compact) str(s string) {
	c.buf = binary.AppendUvarint(c.buf, uint64(len(s)))
	c.buf = append(c.buf, s...)
}

// begin opens a struct-valued field; end closes it.
func (c *compact) begin(id int16) {
	c.field(id, thriftStruct)
	c.open()
}

// open starts a struct with no field header: a list's element or the outermost struct.
func (c *compact) open() {
	c.stack = append(c.stack, c.lastID)
	c.lastID = 0
}

func (c *compact) end() {
	c.buf = append(c.buf, 0) // stop
	c.lastID = c.stack[len(c.stack)-1]
	c.stack = c.stack[:len(c.stack)-1]
}

// list writes a list field's header; its n elements follow.
func (c *compact) list(id int16, elem byte, n int) {
	c.field(id, thriftList)
	if n < 15 {
		c.buf = append(c.buf, byte(n)<<4|elem)
		return
	}
	c.buf = append(c.buf, 0xf0|elem)
	c.buf = binary.AppendUvarint(c.buf, uint64(n))
}

// i32Elem writes one i32 element of a list.
func (c *compact) i32Elem(v int32) {
	c.buf = binary.AppendUvarint(c.buf, uint64(uint32(v<<1^v>>31)))
}
