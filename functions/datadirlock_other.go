//go:build !unix

package main

// lockDataDir is a no-op where flock is missing: the handler runs on Linux.
func lockDataDir(string) (func() error, error) { return func() error { return nil }, nil }
