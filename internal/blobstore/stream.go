package blobstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// PutStream writes what r yields to a temp file beside the target and renames it into place
// once r ends, as Put does: a reader (or a crash) sees the old blob or the whole new one,
// never part of one, and a reader that fails leaves the old blob. Memory stays at io.Copy's
// buffer, whatever the blob's size.
func (f *Folder) PutStream(ctx context.Context, key string, r io.Reader, contentType string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := f.path(key)
	if err != nil {
		return err
	}
	tmp, err := f.createTemp(filepath.Dir(p))
	if err != nil {
		return fmt.Errorf("blobstore: put stream: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = io.Copy(tmp, contextReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		return fmt.Errorf("blobstore: put stream: %w", err)
	}
	return nil
}

// contextReader stops a copy once ctx ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// streamBlockSize is the block PutStream uploads at a time; with one block in flight, it is
// the memory an upload holds.
const streamBlockSize = 4 << 20

// PutStream uploads what r yields as blocks and commits the block list once r ends, so the
// blob is replaced whole or, if r fails, not at all (uncommitted blocks are discarded by the
// service).
func (a *Azure) PutStream(ctx context.Context, key string, r io.Reader, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	opts := &azblob.UploadStreamOptions{BlockSize: streamBlockSize, Concurrency: 1}
	if contentType != "" {
		opts.HTTPHeaders = &blob.HTTPHeaders{BlobContentType: &contentType}
	}
	if _, err := a.client.UploadStream(ctx, a.container, key, r, opts); err != nil {
		return fmt.Errorf("blobstore: put stream: %w", err)
	}
	return nil
}
