package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/cosmosstore"
)

// TestAzureModeWiring builds the app from Azure settings: managed identity, Cosmos DB, Blob
// Storage and Service Bus, no embedded store, queue, test clock or data directory. Building
// clients touches no network, so this runs anywhere; the adapters are proven on emulators
// and recorded wire formats in their own packages.
func TestAzureModeWiring(t *testing.T) {
	dataDir := t.TempDir() + "/never-created"
	env := map[string]string{
		config.EnvAdminToken:     testAdminToken,
		config.EnvHashKey:        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		config.EnvServiceBus:     "popsell-test.servicebus.windows.net",
		config.EnvCosmosEndpoint: "https://popsell-test.documents.azure.com:443/",
		config.EnvCosmosDatabase: "gdpr",
		config.EnvBlobURL:        "https://popselltest.blob.core.windows.net/",
		config.EnvBlobContainer:  "gdpr",
		config.EnvClientID:       "11111111-2222-3333-4444-555555555555",
		config.EnvDataDir:        dataDir,
		config.EnvPublicBaseURL:  "https://popsell-test.example",
		config.EnvMailjetPublic:  "mj-public-key",
		config.EnvMailjetPrivate: "mj-private-key",
		config.EnvMailFrom:       "no-reply@popsell.example",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.True(t, cfg.AzureMode())

	app := NewApp(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, app.Wire(t.Context()))
	t.Cleanup(func() { require.NoError(t, app.Close()) })
	require.IsType(t, &cosmosstore.Store{}, app.Store)
	require.Nil(t, app.Queue, "queues belong to Service Bus and the Functions host")
	require.Nil(t, app.TestClock)
	require.Empty(t, app.OutboxDir, "no file outbox: it would keep addresses on the instance")
	_, err = os.Stat(dataDir)
	require.True(t, os.IsNotExist(err), "Azure mode keeps nothing on the instance's disk")
}

// TestRunRefusesAWrongSchema: in Azure mode Run checks Cosmos DB's containers before it
// serves (review fix 2 of #13); a failed check stops the start with the check's error, and the
// host sees the process exit instead of erasures silently finding nothing.
func TestRunRefusesAWrongSchema(t *testing.T) {
	env := testEnv(t.TempDir())
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	app := NewApp(cfg, slog.New(slog.DiscardHandler))
	app.startChecks = append(app.startChecks, func(context.Context) error {
		return errors.New("cosmos schema: container users: partition key /id, want /brandId")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = app.Run(t.Context(), ln)
	require.ErrorContains(t, err, "partition key /id, want /brandId")
	<-app.Started()
	require.Error(t, app.StartErr())
}
