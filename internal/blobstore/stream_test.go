package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
)

// streamer is what both adapters offer for blobs too large to hold in memory.
type streamer interface {
	PutStream(ctx context.Context, key string, r io.Reader, contentType string) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// failingReader yields n bytes, then fails: a producer that breaks part way.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("producer failed")
	}
	m := min(len(p), f.n)
	for i := range p[:m] {
		p[i] = 'z'
	}
	f.n -= m
	return m, nil
}

// testStreams is the streaming behaviour both adapters share.
func testStreams(t *testing.T, s streamer) {
	ctx := context.Background()
	const key = "demo/exports/ex1.zip"
	readAll := func(t *testing.T, key string) []byte {
		t.Helper()
		r, err := s.Open(ctx, key)
		require.NoError(t, err)
		defer r.Close()
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		return b
	}

	t.Run("stream_round_trip_larger_than_a_block", func(t *testing.T) {
		// Over one upload block (4 MiB), so the upload is several blocks committed as one.
		want := bytes.Repeat([]byte("0123456789abcdef"), 5<<16+3)
		require.NoError(t, s.PutStream(ctx, key, bytes.NewReader(want), "application/zip"))
		require.Equal(t, want, readAll(t, key))
	})
	t.Run("stream_replaces_whole", func(t *testing.T) {
		require.NoError(t, s.PutStream(ctx, key, bytes.NewReader([]byte("short")), "application/zip"))
		require.Equal(t, []byte("short"), readAll(t, key))
	})
	t.Run("failed_stream_keeps_the_old_blob", func(t *testing.T) {
		require.Error(t, s.PutStream(ctx, key, &failingReader{n: 1000}, "application/zip"))
		require.Equal(t, []byte("short"), readAll(t, key))
	})
	t.Run("failed_first_stream_leaves_no_blob", func(t *testing.T) {
		require.Error(t, s.PutStream(ctx, "demo/exports/never.zip", &failingReader{n: 1000}, ""))
		_, err := s.Open(ctx, "demo/exports/never.zip")
		require.ErrorIs(t, err, blobstore.ErrNotFound)
	})
	t.Run("open_missing_and_deleted", func(t *testing.T) {
		_, err := s.Open(ctx, "demo/exports/missing.zip")
		require.ErrorIs(t, err, blobstore.ErrNotFound)
		_, err = s.Open(ctx, "demo/exports") // a prefix of a stored key, not a blob
		require.ErrorIs(t, err, blobstore.ErrNotFound)
		require.NoError(t, s.Delete(ctx, key))
		_, err = s.Open(ctx, key)
		require.ErrorIs(t, err, blobstore.ErrNotFound)
	})
	t.Run("invalid_keys_rejected", func(t *testing.T) {
		for _, k := range []string{"", "/demo/x", "demo/../x", `demo\x`} {
			require.ErrorIs(t, s.PutStream(ctx, k, bytes.NewReader(nil), ""), blobstore.ErrInvalidKey, "PutStream %q", k)
			_, err := s.Open(ctx, k)
			require.ErrorIs(t, err, blobstore.ErrInvalidKey, "Open %q", k)
		}
	})
}

func TestFolderStreams(t *testing.T) {
	f := blobstore.NewFolder(t.TempDir())
	testStreams(t, f)
	// A failed stream leaves no temp file holding part of an export.
	err := filepath.WalkDir(f.Root(), func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.IsDir() {
			t.Errorf("file left behind: %s", filepath.Base(p))
		}
		return nil
	})
	require.NoError(t, err)
}

func TestFolderPutStreamCanceled(t *testing.T) {
	f := blobstore.NewFolder(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, f.PutStream(ctx, "demo/x", bytes.NewReader([]byte("x")), ""), context.Canceled)
	_, err := f.Open(ctx, "demo/x")
	require.ErrorIs(t, err, context.Canceled)
}

func TestAzureStreams(t *testing.T) {
	a, _, _ := newAzure(t)
	testStreams(t, a)
}
