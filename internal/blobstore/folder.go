package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

var _ Store = (*Folder)(nil)

// Folder stores each blob as a file under a root directory: key "demo/users/u1/photo" is the
// file <root>/demo/users/u1/photo. It is the local-mode adapter, meant for one process per
// root. Content types are not kept: nothing in local mode reads them back.
//
// Unlike a blob container, a folder cannot hold both "a/b" and "a/b/c" (a path cannot be a
// file and a directory); such a Put fails. Our keys never nest that way.
type Folder struct {
	root string
	// mu orders directory creation in Put against directory pruning in Delete, so a Delete
	// cannot remove the directory a concurrent Put is about to create its temp file in; Puts
	// share it, Deletes take it alone. A temp file, once created, keeps its directory from
	// being pruned.
	mu sync.RWMutex
	// dirs are the directories made or found since the last pruning: a write into one of them
	// needs no MkdirAll, whose stat per level was most of a small blob's cost (the ledger
	// writes two per erasure).
	dirs sync.Map
	// noTmpfile is set once the kernel or the filesystem refuses an unnamed file: Create then
	// goes the portable way.
	noTmpfile atomic.Bool
}

// NewFolder returns a Folder rooted at root. The directory is created on first Put.
func NewFolder(root string) *Folder {
	return &Folder{root: filepath.Clean(root)}
}

// Root returns the directory the blobs live in.
func (f *Folder) Root() string { return f.root }

// path maps a checked key to its file. filepath.IsLocal re-checks the result for the
// platform's own rules (drive letters and reserved names such as NUL on Windows).
func (f *Folder) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	rel := filepath.FromSlash(key)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%w: not a local path", ErrInvalidKey)
	}
	return filepath.Join(f.root, rel), nil
}

// Put writes data to a temp file beside the target and renames it into place, so a reader
// (or a crash) sees the old blob or the new one, never half of one. Files are 0600 and
// directories 0700: blobs are personal data.
func (f *Folder) Put(ctx context.Context, key string, data []byte, contentType string) error {
	return f.PutStream(ctx, key, bytes.NewReader(data), contentType)
}

func (f *Folder) createTemp(dir string) (*os.File, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if err := f.ensureDir(dir); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, ".tmp-*")
}

// ensureDir makes dir unless it is known to exist. The caller holds mu (read).
func (f *Folder) ensureDir(dir string) error {
	if _, known := f.dirs.Load(dir); known {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f.dirs.Store(dir, true)
	return nil
}

// Delete removes the blob's file; a missing one is success, so an erasure can be repeated.
// It then removes the parent directories it leaves empty, up to the root: directory names
// hold subject ids, which should not outlive the subject's last blob.
func (f *Folder) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := f.path(key)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, err := os.Lstat(p); err != nil {
		if missing(err) {
			return nil
		}
		return fmt.Errorf("blobstore: delete: %w", err)
	} else if fi.IsDir() {
		return nil // a directory is a key prefix, not a blob
	}
	if err := os.Remove(p); err != nil && !missing(err) {
		return fmt.Errorf("blobstore: delete: %w", err)
	}
	segs := strings.Split(key, "/")
	for n := len(segs) - 1; n > 0; n-- {
		if os.Remove(filepath.Join(f.root, filepath.Join(segs[:n]...))) != nil {
			break // not empty (or gone): the ones above are not empty either
		}
		f.dirs.Clear() // a directory went: the next write into any makes sure of it again
	}
	return nil
}

// Exists reports whether key names a stored blob (a regular file, not a key prefix).
func (f *Folder) Exists(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p, err := f.path(key)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(p)
	switch {
	case err == nil:
		return fi.Mode().IsRegular(), nil
	case missing(err):
		return false, nil
	default:
		return false, fmt.Errorf("blobstore: exists: %w", err)
	}
}

// missing is true when a path does not exist, including when one of its parents is a file
// (ENOTDIR): under that key no blob can exist either.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Create gives a new file holding data the key's name with link(2), which fails if the name
// exists: of two concurrent creates exactly one wins, and a reader never sees a partial blob.
// The file is written unnamed where the kernel allows it (O_TMPFILE on Linux), else as a temp
// file removed after the link; either way a crash leaves no name that blocks a retry. It does
// not sync: like local mode's SQLite files (synchronous=NORMAL) it survives a process crash,
// the failure local mode has, not a power loss; a sync per blob would cut the ledger's
// appends from some 6,000 to 1,000 a second (BenchmarkLedgerAppendFolder), below the erasure
// worker's pace.
func (f *Folder) Create(ctx context.Context, key string, data []byte, contentType string) error {
	return f.create(ctx, key, data, "")
}

// CreateLinked is Create, but a hard link to source's file when that holds exactly data.
func (f *Folder) CreateLinked(ctx context.Context, key string, data []byte, contentType, source string) error {
	return f.create(ctx, key, data, source)
}

// create writes data under key, create-only: as a second name of source's file when source
// is given and holds exactly data, else as a new file.
func (f *Folder) create(ctx context.Context, key string, data []byte, source string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := f.path(key)
	if err != nil {
		return err
	}
	src := ""
	if source != "" {
		if src, err = f.path(source); err != nil {
			return err
		}
	}
	// Held until the link: an unnamed file does not keep its directory from being pruned,
	// and a Delete cannot take source away between the comparison and the link.
	f.mu.RLock()
	defer f.mu.RUnlock()
	if err := f.ensureDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("blobstore: create: %w", err)
	}
	if src != "" && holds(src, data) {
		return createErr(os.Link(src, p))
	}
	return createErr(f.createFile(p, data))
}

func createErr(err error) error {
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("blobstore: create: %w", ErrExists)
	case err != nil:
		return fmt.Errorf("blobstore: create: %w", err)
	}
	return nil
}

// createViaTemp is the portable createFile: a named temp file, linked, then removed.
func createViaTemp(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(tmp.Name(), p)
}

// Get reads a blob's file.
func (f *Folder) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(p)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("blobstore: get: %w", ErrNotFound)
	}
	data, err := os.ReadFile(p)
	switch {
	case err != nil && missing(err):
		return nil, fmt.Errorf("blobstore: get: %w", ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("blobstore: get: %w", err)
	}
	return data, nil
}

// List walks the directory of prefix. Temp files (".tmp-*") are not blobs.
func (f *Folder) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	root := f.root
	if prefix != "" {
		root = filepath.Join(f.root, filepath.FromSlash(strings.TrimSuffix(prefix, "/")))
	}
	var keys []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if missing(err) && p == root {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".tmp-") {
			rel, err := filepath.Rel(f.root, p)
			if err != nil {
				return err
			}
			keys = append(keys, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blobstore: list: %w", err)
	}
	// WalkDir goes in lexical order of each directory's names, which is not the byte order of
	// whole keys ("a/b" before "a.b/c"): sort as a blob listing does.
	slices.Sort(keys)
	return keys, nil
}

// ListDirs reads the directory of prefix.
func (f *Folder) ListDirs(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	dir := filepath.Join(f.root, filepath.FromSlash(strings.TrimSuffix(prefix, "/")))
	entries, err := os.ReadDir(dir)
	if err != nil {
		if missing(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("blobstore: list: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
