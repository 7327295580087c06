package cosmosstore

import (
	"context"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"popsell-gdpr/internal/storetest"
	"popsell-gdpr/internal/testenv"
)

// emulatorKey is the well-known key of the Cosmos DB emulator (the emulator checks none).
// testenv.CosmosEmulatorKey is used when it is valid base64; this one otherwise.
const emulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

// cosmosEndpoint returns the emulator's endpoint and key; testenv skips the test (fails it
// under CI) when the emulator is not running.
func cosmosEndpoint(tb testing.TB) (endpoint, key string) {
	tb.Helper()
	endpoint, key = testenv.Cosmos(tb)
	if _, err := azcosmos.NewKeyCredential(key); err != nil {
		key = emulatorKey
	}
	return endpoint, key
}

// One client and one database per test binary run: the suite writes under fresh brand ids, so
// tests share them safely. TestMain deletes the database at the end.
var shared struct {
	once   sync.Once
	client *azcosmos.Client
	db     string
	store  *Store
	err    error
}

func openStore(tb testing.TB) *Store {
	tb.Helper()
	endpoint, key := cosmosEndpoint(tb)
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if shared.err = waitReady(ctx, endpoint); shared.err != nil {
			return
		}
		shared.db = testenv.Name(tb, "cosmosstore")
		if shared.client, shared.err = NewClientWithKey(endpoint, key); shared.err != nil {
			return
		}
		if shared.store, shared.err = New(shared.client, shared.db); shared.err != nil {
			return
		}
		shared.err = shared.store.EnsureSchema(ctx)
	})
	if shared.err != nil {
		tb.Fatalf("cosmos emulator at %s: %v", endpoint, shared.err)
	}
	return shared.store
}

// waitReady polls GET / until the emulator answers: the SDK caches a failed first call.
func waitReady(ctx context.Context, endpoint string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.client != nil && shared.db != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if db, err := shared.client.NewDatabase(shared.db); err == nil {
			_, _ = db.Delete(ctx, nil)
		}
		cancel()
	}
	os.Exit(code)
}

// TestConformance runs the store conformance suite against the emulator. Every subtest
// shares the store: the suite writes under brand ids of its own.
func TestConformance(t *testing.T) {
	openStore(t) // skip (or, under CI, fail) once rather than in every subtest
	storetest.Run(t, func(t *testing.T) storetest.Store { return openStore(t) })
}
