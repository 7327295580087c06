package blobstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
)

func TestFolder(t *testing.T) {
	f := blobstore.NewFolder(t.TempDir())
	testBlobs(t, f, func(t *testing.T, key string) []byte {
		data, err := os.ReadFile(filepath.Join(f.Root(), filepath.FromSlash(key)))
		require.NoError(t, err)
		return data
	})
}

func TestFolderLeavesNoTempFiles(t *testing.T) {
	ctx := context.Background()
	f := blobstore.NewFolder(t.TempDir())
	require.NoError(t, f.Put(ctx, "demo/users/u1/photo", []byte("a"), "image/png"))
	require.NoError(t, f.Put(ctx, "demo/users/u1/photo", []byte("b"), "image/png"))

	entries, err := os.ReadDir(filepath.Join(f.Root(), "demo", "users", "u1"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "photo", entries[0].Name())
	info, err := entries[0].Info()
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "blobs are personal data")
}

// After the last blob under a subject's prefix is deleted, no directory named after the
// subject remains; directories still holding blobs stay.
func TestFolderDeletePrunesEmptyDirectories(t *testing.T) {
	ctx := context.Background()
	f := blobstore.NewFolder(t.TempDir())
	require.NoError(t, f.Put(ctx, "demo/users/u1/ugc/1", []byte("a"), ""))
	require.NoError(t, f.Put(ctx, "demo/users/u2/photo", []byte("b"), ""))

	require.NoError(t, f.Delete(ctx, "demo/users/u1/ugc/1"))
	require.NoDirExists(t, filepath.Join(f.Root(), "demo", "users", "u1"))
	require.FileExists(t, filepath.Join(f.Root(), "demo", "users", "u2", "photo"))
	require.DirExists(t, f.Root())

	require.NoError(t, f.Delete(ctx, "demo/users/u2/photo"))
	require.NoDirExists(t, filepath.Join(f.Root(), "demo"))
	require.DirExists(t, f.Root(), "the root itself stays")
}

func TestFolderKeyUnderAFile(t *testing.T) {
	ctx := context.Background()
	f := blobstore.NewFolder(t.TempDir())
	require.NoError(t, f.Put(ctx, "demo/a", []byte("a"), ""))

	ok, err := f.Exists(ctx, "demo/a/b")
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, f.Delete(ctx, "demo/a/b"))
	require.Error(t, f.Put(ctx, "demo/a/b", []byte("b"), ""), "a folder cannot nest a blob under a blob")
}

func TestFolderCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := blobstore.NewFolder(t.TempDir())
	require.ErrorIs(t, f.Put(ctx, "demo/x", []byte("x"), ""), context.Canceled)
}
