// Package blobstore implements gdpr.Blobs twice: Folder keeps blobs as files under a directory
// (local mode), Azure keeps them in one Azure Blob Storage container. Both accept the same keys
// and pass the same behaviour suite, so the domain cannot tell them apart.
package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"popsell-gdpr/internal/gdpr"
)

// Store is what both adapters offer: the domain's gdpr.Blobs (deletion), and the writes and
// reads the platform and the tests make.
type Store interface {
	gdpr.Blobs
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Exists(ctx context.Context, key string) (bool, error)
	// PutStream and Open write and read a blob as a stream (stream.go).
	PutStream(ctx context.Context, key string, r io.Reader, contentType string) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// ErrInvalidKey is returned, wrapped, for a key that checkKey rejects.
var ErrInvalidKey = errors.New("blobstore: invalid key")

// checkKey accepts keys of the form "seg/seg/...": relative, slash-separated, with no empty,
// "." or ".." segment, no backslash and no control character. Keys come from our own code, but
// Folder turns them into file paths, so a bad one must fail loudly rather than escape the root
// or alias another blob. Azure applies the same rule so both adapters accept the same keys.
// The error names the rule broken, never the key: keys carry subject ids.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("%w: absolute", ErrInvalidKey)
	}
	for _, r := range key {
		if r == '\\' {
			return fmt.Errorf("%w: backslash", ErrInvalidKey)
		}
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: control character", ErrInvalidKey)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: empty segment", ErrInvalidKey)
		case ".", "..":
			return fmt.Errorf("%w: dot segment", ErrInvalidKey)
		}
	}
	return nil
}
