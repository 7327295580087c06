package blobstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// Streaming writes and reads, for blobs too large to hold in memory: a subject's export is
// written as it is zipped and read as it is downloaded, whatever its size.

// streamBlockSize is the size of one block of a streamed upload, and streamBlocks how many
// are in flight at once: an upload holds at most their product in memory (8 MiB).
const (
	streamBlockSize = 4 << 20
	streamBlocks    = 2
)

// ctxReader stops a copy once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// PutStream writes what r yields under key, through a temp file beside the target renamed
// into place as Put does: a reader sees the old blob or the whole new one, never a part. A
// failed or cancelled copy leaves no blob and no temp file.
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
	_, err = io.Copy(tmp, ctxReader{ctx, r})
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

// Open returns a reader of the blob's file, ErrNotFound (wrapped) when none is stored.
func (f *Folder) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(p)
	switch {
	case err != nil && missing(err):
		return nil, fmt.Errorf("blobstore: open: %w", ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("blobstore: open: %w", err)
	}
	if fi, err := file.Stat(); err != nil || !fi.Mode().IsRegular() {
		file.Close()
		return nil, fmt.Errorf("blobstore: open: %w", ErrNotFound) // a key prefix, not a blob
	}
	return file, nil
}

// PutStream uploads what r yields as a block blob, a few blocks at a time; the blob is
// committed whole once the last block is in (Put Block List), so a reader never sees a part,
// and an upload that fails commits nothing.
func (a *Azure) PutStream(ctx context.Context, key string, r io.Reader, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	opts := &azblob.UploadStreamOptions{BlockSize: streamBlockSize, Concurrency: streamBlocks}
	if contentType != "" {
		opts.HTTPHeaders = &blob.HTTPHeaders{BlobContentType: &contentType}
	}
	if _, err := a.client.UploadStream(ctx, a.container, key, r, opts); err != nil {
		return fmt.Errorf("blobstore: put stream: %w", err)
	}
	return nil
}

// Open starts a download of the blob; its body is read as the caller reads it. A missing
// blob is ErrNotFound (wrapped).
func (a *Azure) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	resp, err := a.client.DownloadStream(ctx, a.container, key, nil)
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		return nil, fmt.Errorf("blobstore: open: %w", ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("blobstore: open: %w", err)
	}
	return resp.Body, nil
}
