package blobstore

import (
	"context"
	"errors"
)

// ErrExists is returned, wrapped, by Create when the key already holds a blob.
var ErrExists = errors.New("blobstore: blob exists")

// ErrNotFound is returned, wrapped, by Get for a key that holds no blob.
var ErrNotFound = errors.New("blobstore: no such blob")

// CreateOnly is what both adapters offer a store that never overwrites, such as the erasure
// ledger, whose Azure container has a time-based immutability policy: there a blob, once
// written, can be neither replaced nor deleted until its retention ends.
type CreateOnly interface {
	// Create writes a blob only if the key holds none (ErrExists otherwise); a reader or a
	// crash sees the whole blob or none.
	Create(ctx context.Context, key string, data []byte, contentType string) error
	// Get reads a blob (ErrNotFound when there is none).
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns the keys of the blobs under prefix (which ends with "/"), in byte order.
	List(ctx context.Context, prefix string) ([]string, error)
	// ListDirs returns the names of the next level of key segments under prefix (which ends
	// with "/") that hold blobs beneath them, in byte order: "a/" over "a/x/1" and "a/y/2"
	// lists "x" and "y".
	ListDirs(ctx context.Context, prefix string) ([]string, error)
}

// Linker is a CreateOnly store that can give bytes it already holds a second key without
// writing them again: the folder, by a hard link (one directory entry, no new file). Azure
// has no such request (a copy is a second write); its callers Create.
type Linker interface {
	// CreateLinked is Create(key, data), except that when the blob under source holds
	// exactly data, key becomes a second name for it. Source must be a blob that is never
	// replaced (a create-only one): one replaced between the comparison and the link would
	// give key the new bytes.
	CreateLinked(ctx context.Context, key string, data []byte, contentType, source string) error
}

var (
	_ CreateOnly = (*Folder)(nil)
	_ CreateOnly = (*Azure)(nil)
	_ Linker     = (*Folder)(nil)
)

// checkPrefix accepts "" (everything) or a valid key followed by "/".
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if prefix[len(prefix)-1] != '/' {
		return errors.Join(ErrInvalidKey, errors.New("a prefix ends with /"))
	}
	return checkKey(prefix[:len(prefix)-1])
}
