package blobstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

func TestFolderCreateOnlyWithoutTmpfile(t *testing.T) {
	testCreateOnly(t, blobstore.NewFolderWithoutTmpfile(t.TempDir()))
}

// Created blobs are whole files named by their keys, 0600, and nothing else: neither way of
// creating leaves a temp file behind, won or lost.
func TestFolderCreateLeavesOnlyTheBlob(t *testing.T) {
	for name, f := range map[string]*blobstore.Folder{
		"unnamed file": blobstore.NewFolder(t.TempDir()), "temp file": blobstore.NewFolderWithoutTmpfile(t.TempDir()),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			require.NoError(t, f.Create(ctx, "ledger/acme/records/r1", []byte("one"), ""))
			require.ErrorIs(t, f.Create(ctx, "ledger/acme/records/r1", []byte("two"), ""), blobstore.ErrExists)
			require.NoError(t, f.Create(ctx, "ledger/acme/records/r2", nil, ""))

			entries, err := os.ReadDir(filepath.Join(f.Root(), "ledger", "acme", "records"))
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
				info, err := e.Info()
				require.NoError(t, err)
				require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "blobs are personal data")
			}
			require.Equal(t, []string{"r1", "r2"}, names)
			if name == "unnamed file" && blobstore.TmpfileRefused(f) {
				t.Logf("this system refuses O_TMPFILE in %s: both subtests took the temp-file way", f.Root())
			}
			got, err := f.Get(ctx, "ledger/acme/records/r2")
			require.NoError(t, err)
			require.Empty(t, got)
		})
	}
}

// CreateLinked names source's file again only when it holds the very bytes asked for; in
// every other case it is Create.
func TestFolderCreateLinked(t *testing.T) {
	ctx := context.Background()
	f := blobstore.NewFolder(t.TempDir())
	file := func(key string) string { return filepath.Join(f.Root(), filepath.FromSlash(key)) }
	same := func(a, b string) bool {
		fa, err := os.Stat(file(a))
		require.NoError(t, err)
		fb, err := os.Stat(file(b))
		require.NoError(t, err)
		return os.SameFile(fa, fb)
	}
	get := func(key string) string {
		got, err := f.Get(ctx, key)
		require.NoError(t, err)
		return string(got)
	}
	require.NoError(t, f.Create(ctx, "ledger/acme/records/r1", []byte(`{"r":1}`), ""))

	require.NoError(t, f.CreateLinked(ctx, "ledger/acme/days/d1/r1", []byte(`{"r":1}`), "", "ledger/acme/records/r1"))
	require.True(t, same("ledger/acme/days/d1/r1", "ledger/acme/records/r1"), "the same bytes: a second name")

	require.NoError(t, f.CreateLinked(ctx, "ledger/acme/days/d2/r1", []byte(`{"r":2}`), "", "ledger/acme/records/r1"))
	require.False(t, same("ledger/acme/days/d2/r1", "ledger/acme/records/r1"))
	require.Equal(t, `{"r":2}`, get("ledger/acme/days/d2/r1"), "other bytes: a file of their own")
	require.NoError(t, f.CreateLinked(ctx, "ledger/acme/days/d3/r1", []byte(`{"r":1`), "", "ledger/acme/records/r1"))
	require.Equal(t, `{"r":1`, get("ledger/acme/days/d3/r1"), "a prefix of source's bytes is other bytes")
	require.Equal(t, `{"r":1}`, get("ledger/acme/records/r1"), "source is untouched")

	require.NoError(t, f.CreateLinked(ctx, "ledger/acme/days/d1/r9", []byte(`{"r":9}`), "", "ledger/acme/records/r9"))
	require.Equal(t, `{"r":9}`, get("ledger/acme/days/d1/r9"), "no source: created")

	require.ErrorIs(t, f.CreateLinked(ctx, "ledger/acme/days/d1/r1", []byte(`{"r":2}`), "", "ledger/acme/records/r1"),
		blobstore.ErrExists)
	require.ErrorIs(t, f.CreateLinked(ctx, "ledger/acme/days/d2/r1", []byte(`{"r":1}`), "", "ledger/acme/records/r1"),
		blobstore.ErrExists, "an existing key is refused, linkable or not")
	require.Equal(t, `{"r":2}`, get("ledger/acme/days/d2/r1"))

	require.ErrorIs(t, f.CreateLinked(ctx, "ledger/../x", nil, "", "ledger/acme/records/r1"), blobstore.ErrInvalidKey)
	require.ErrorIs(t, f.CreateLinked(ctx, "ledger/acme/x", nil, "", "/etc/passwd"), blobstore.ErrInvalidKey)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, f.CreateLinked(canceled, "ledger/acme/y", nil, "", "ledger/acme/records/r1"), context.Canceled)
}

// Of concurrent linked creates of one key, exactly one wins, whichever way each goes.
func TestFolderCreateLinkedRace(t *testing.T) {
	ctx := context.Background()
	f := blobstore.NewFolder(t.TempDir())
	require.NoError(t, f.Create(ctx, "ledger/acme/records/r1", []byte("writer 0"), ""))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins []int
	)
	for i := range 16 {
		wg.Go(func() {
			err := f.CreateLinked(ctx, "ledger/acme/days/d1/r1", fmt.Appendf(nil, "writer %d", i%2), "", "ledger/acme/records/r1")
			if err == nil {
				mu.Lock()
				wins = append(wins, i)
				mu.Unlock()
				return
			}
			require.ErrorIs(t, err, blobstore.ErrExists)
		})
	}
	wg.Wait()
	require.Len(t, wins, 1)
	got, err := f.Get(ctx, "ledger/acme/days/d1/r1")
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("writer %d", wins[0]%2), string(got))
}

func TestAzureCreateOnly(t *testing.T) {
	a, _, _ := newAzure(t)
	testCreateOnly(t, a)
}
