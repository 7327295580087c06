package main

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
)

// TestASecondInstanceNamesTheDataDir: two local-mode instances on one data directory would
// run two consumers, scrubbers and schedulers over the same files; the second is refused at
// start, naming the setting to change, and may start once the first has stopped.
func TestASecondInstanceNamesTheDataDir(t *testing.T) {
	env := testEnv(t.TempDir())
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	first := NewApp(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, first.Wire(t.Context()))

	second := NewApp(cfg, slog.New(slog.DiscardHandler))
	err = second.Wire(t.Context())
	require.ErrorContains(t, err, "POPSELL_DATA_DIR="+cfg.DataDir+" is in use by another instance")

	require.NoError(t, first.Close())
	require.NoError(t, second.Wire(t.Context()), "the lock goes with the instance that held it")
	require.NoError(t, second.Close())
}
