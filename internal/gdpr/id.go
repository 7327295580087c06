package gdpr

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns prefix + a 26-character id: 48 bits of milliseconds then 80 random bits. Ids
// sort by creation time, carry no personal data, and cannot be guessed.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("gdpr: crypto/rand failed") // the platform is broken; nothing safe to do
	}
	return prefix + idEncoding.EncodeToString(b[:])
}
