package blobstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
)

// testBlobs is the behaviour every blobstore.Store shares. read returns a stored blob's
// bytes: the port has no Get, so each adapter's test reads its own way.
func testBlobs(t *testing.T, b blobstore.Store, read func(t *testing.T, key string) []byte) {
	ctx := context.Background()
	const key = "demo/users/u1/photo"

	t.Run("put then exists", func(t *testing.T) {
		require.NoError(t, b.Put(ctx, key, []byte("jpeg-1"), "image/jpeg"))
		ok, err := b.Exists(ctx, key)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, []byte("jpeg-1"), read(t, key))
	})

	t.Run("overwrite replaces", func(t *testing.T) {
		require.NoError(t, b.Put(ctx, key, []byte("jpeg-2, longer"), "image/jpeg"))
		require.NoError(t, b.Put(ctx, key, []byte("x"), "image/jpeg"))
		require.Equal(t, []byte("x"), read(t, key))
	})

	t.Run("empty blob", func(t *testing.T) {
		require.NoError(t, b.Put(ctx, "demo/users/u1/empty", nil, ""))
		ok, err := b.Exists(ctx, "demo/users/u1/empty")
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, b.Delete(ctx, "demo/users/u1/empty"))
	})

	t.Run("delete", func(t *testing.T) {
		require.NoError(t, b.Put(ctx, "demo/users/u1/ugc/1", []byte("ugc"), "text/plain"))
		require.NoError(t, b.Delete(ctx, key))
		ok, err := b.Exists(ctx, key)
		require.NoError(t, err)
		require.False(t, ok)
		ok, err = b.Exists(ctx, "demo/users/u1/ugc/1")
		require.NoError(t, err)
		require.True(t, ok, "deleting one blob leaves its siblings")
	})

	t.Run("delete missing is success", func(t *testing.T) {
		require.NoError(t, b.Delete(ctx, key))
		require.NoError(t, b.Delete(ctx, "demo/never/written"))
	})

	t.Run("exists of missing and of a prefix", func(t *testing.T) {
		ok, err := b.Exists(ctx, "demo/never/written")
		require.NoError(t, err)
		require.False(t, ok)
		ok, err = b.Exists(ctx, "demo/users") // a prefix of stored keys, not a blob
		require.NoError(t, err)
		require.False(t, ok)
	})

	t.Run("invalid keys rejected", func(t *testing.T) {
		for _, k := range []string{
			"", "/demo/x", "demo//x", "demo/x/", "demo/../x", "..", "./demo", `demo\x`, "demo/\x00",
		} {
			require.ErrorIs(t, b.Put(ctx, k, []byte("x"), ""), blobstore.ErrInvalidKey, "Put %q", k)
			require.ErrorIs(t, b.Delete(ctx, k), blobstore.ErrInvalidKey, "Delete %q", k)
			_, err := b.Exists(ctx, k)
			require.ErrorIs(t, err, blobstore.ErrInvalidKey, "Exists %q", k)
		}
	})
}
