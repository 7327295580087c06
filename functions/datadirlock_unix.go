//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes the data directory for this process alone: two instances on one
// directory would run two queue consumers, two scrubbers and two schedulers over the same
// files. The lock is the kernel's (flock), so a process killed with -9 leaves none behind.
func lockDataDir(dir string) (release func() error, err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("POPSELL_DATA_DIR=%s is in use by another instance; give each instance a data directory of its own", dir)
		}
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	return f.Close, nil
}
