package main

import (
	"strings"
	"testing"
)

// FuzzVerify: the verifier reads files an auditor is handed; whatever the bytes, it answers
// verified, tampered or not an export, and never panics.
func FuzzVerify(f *testing.F) {
	f.Add(strings.Join(export(f), "\n"))
	f.Add(`{"type":"ledger","format":"popsell-ledger/1","brandId":"a"}` + "\n" +
		`{"type":"seal","day":"2026-12-01","count":0,"root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","previous":"0000000000000000000000000000000000000000000000000000000000000000"}`)
	f.Fuzz(func(t *testing.T, in string) {
		sum, err := verify(strings.NewReader(in))
		if err == nil && !strings.HasPrefix(sum, "verified: ") {
			t.Fatalf("no error and no verdict")
		}
	})
}
