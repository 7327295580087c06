package blobstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
)

// testCreateOnly is the create-only behaviour both adapters share (the erasure ledger's).
func testCreateOnly(t *testing.T, b blobstore.CreateOnly) {
	ctx := context.Background()

	t.Run("create then get", func(t *testing.T) {
		require.NoError(t, b.Create(ctx, "ledger/acme/records/r1", []byte(`{"a":1}`), "application/json"))
		got, err := b.Get(ctx, "ledger/acme/records/r1")
		require.NoError(t, err)
		require.Equal(t, `{"a":1}`, string(got))
	})

	t.Run("create over a blob is refused and changes nothing", func(t *testing.T) {
		err := b.Create(ctx, "ledger/acme/records/r1", []byte(`{"a":2}`), "application/json")
		require.ErrorIs(t, err, blobstore.ErrExists)
		got, err := b.Get(ctx, "ledger/acme/records/r1")
		require.NoError(t, err)
		require.Equal(t, `{"a":1}`, string(got))
	})

	t.Run("get of a missing blob or a prefix", func(t *testing.T) {
		_, err := b.Get(ctx, "ledger/acme/records/none")
		require.ErrorIs(t, err, blobstore.ErrNotFound)
		_, err = b.Get(ctx, "ledger/acme/records")
		require.ErrorIs(t, err, blobstore.ErrNotFound)
	})

	t.Run("concurrent creates of one key: exactly one wins", func(t *testing.T) {
		const n = 16
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			winner []int
		)
		for i := range n {
			wg.Go(func() {
				err := b.Create(ctx, "ledger/acme/race", fmt.Appendf(nil, "writer %d", i), "")
				if err == nil {
					mu.Lock()
					winner = append(winner, i)
					mu.Unlock()
					return
				}
				require.ErrorIs(t, err, blobstore.ErrExists)
			})
		}
		wg.Wait()
		require.Len(t, winner, 1)
		got, err := b.Get(ctx, "ledger/acme/race")
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("writer %d", winner[0]), string(got), "the winner's bytes, whole")
	})

	t.Run("list in byte order, under the prefix only", func(t *testing.T) {
		for _, k := range []string{"ledger/acme/days/2026-12-02/b", "ledger/acme/days/2026-12-01/z",
			"ledger/acme/days/2026-12-01/a", "ledger/acme/days/2026-12-01/a_b", "ledger/acme/days/2026-12-01/a-b",
			"ledger/other/days/2026-12-01/a"} {
			require.NoError(t, b.Create(ctx, k, []byte("x"), ""))
		}
		keys, err := b.List(ctx, "ledger/acme/days/2026-12-01/")
		require.NoError(t, err)
		require.Equal(t, []string{"ledger/acme/days/2026-12-01/a", "ledger/acme/days/2026-12-01/a-b",
			"ledger/acme/days/2026-12-01/a_b", "ledger/acme/days/2026-12-01/z"}, keys)
		keys, err = b.List(ctx, "ledger/nobody/")
		require.NoError(t, err)
		require.Empty(t, keys)
	})

	t.Run("list dirs", func(t *testing.T) {
		dirs, err := b.ListDirs(ctx, "ledger/acme/days/")
		require.NoError(t, err)
		require.Equal(t, []string{"2026-12-01", "2026-12-02"}, dirs)
		dirs, err = b.ListDirs(ctx, "ledger/nobody/days/")
		require.NoError(t, err)
		require.Empty(t, dirs)
	})

	t.Run("invalid keys and prefixes rejected", func(t *testing.T) {
		require.ErrorIs(t, b.Create(ctx, "ledger/../x", nil, ""), blobstore.ErrInvalidKey)
		_, err := b.Get(ctx, "/x")
		require.ErrorIs(t, err, blobstore.ErrInvalidKey)
		_, err = b.List(ctx, "ledger/acme") // no trailing slash
		require.ErrorIs(t, err, blobstore.ErrInvalidKey)
		_, err = b.ListDirs(ctx, "ledger//")
		require.ErrorIs(t, err, blobstore.ErrInvalidKey)
	})
}

func TestFolderCreateOnly(t *testing.T) {
	testCreateOnly(t, blobstore.NewFolder(t.TempDir()))
}

func TestAzureCreateOnly(t *testing.T) {
	a, _, _ := newAzure(t)
	testCreateOnly(t, a)
}
