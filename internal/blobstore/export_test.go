package blobstore

// NewFolderWithoutTmpfile is a Folder that creates blobs the portable way (a named temp
// file), as it does where the kernel refuses O_TMPFILE, so tests cover both ways.
func NewFolderWithoutTmpfile(root string) *Folder {
	f := NewFolder(root)
	f.noTmpfile.Store(true)
	return f
}

// TmpfileRefused reports whether f has turned to the portable way.
func TmpfileRefused(f *Folder) bool { return f.noTmpfile.Load() }
