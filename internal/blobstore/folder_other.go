//go:build !linux

package blobstore

import (
	"bytes"
	"io"
	"os"
)

// createFile is the portable way everywhere but Linux (folder_linux.go).
func (f *Folder) createFile(p string, data []byte) error { return createViaTemp(p, data) }

// holds reports whether the file p holds exactly data.
func holds(p string, data []byte) bool {
	file, err := os.Open(p)
	if err != nil {
		return false
	}
	defer file.Close()
	buf := make([]byte, len(data)+1)
	n, err := io.ReadFull(file, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false
	}
	return bytes.Equal(buf[:n], data)
}
