//go:build unix

package localqueue

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestFilesArePrivate: the queue's files hold job bodies (ids of the subjects to erase or
// mail), so only the service's user may read them, as with the store's popsell.db (issue #10,
// finding 7). The umask is set to the common 022 so that a file left to SQLite's default
// mode, 0644, fails here whatever the umask of the machine running the tests.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	dir := t.TempDir()
	q, err := Open(filepath.Join(dir, "queue.db"), fastOptions())
	require.NoError(t, err)
	defer q.Close()
	_, err = q.Publish(context.Background(), qA, gdpr.Message{ID: "job", Body: []byte(`{"userId":"u_1"}`)})
	require.NoError(t, err)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		require.Equal(t, "-rw-------", info.Mode().Perm().String(), e.Name())
		names = append(names, e.Name())
	}
	require.Contains(t, names, "queue.db-wal", "the log holds the bodies too and is checked as well")
}
