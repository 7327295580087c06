package main

import (
	"testing"

	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/testenv"
)

// backend is a set of settings the end-to-end tests run under.
type backend struct {
	name string
	// embedded reports the local store and blob folder, whose files the erasure tests scan.
	embedded bool
	env      func(t *testing.T) map[string]string
}

// backends are the embedded default, and Cosmos DB + Azurite (emulators; the queue stays
// embedded since Service Bus has no emulator). The second skips outside CI when the
// emulators are not running, and fails in CI.
var backends = []backend{
	{name: "embedded", embedded: true, env: func(*testing.T) map[string]string { return nil }},
	{name: "cosmos+azurite", env: func(t *testing.T) map[string]string {
		endpoint, key := testenv.Cosmos(t)
		conn := testenv.Azurite(t)
		return map[string]string{
			config.EnvCosmosEndpoint: endpoint, config.EnvCosmosKey: key,
			config.EnvCosmosDatabase: testenv.Name(t, "e2e"),
			config.EnvBlobConnection: conn, config.EnvBlobContainer: testenv.Name(t, "e2e"),
		}
	}},
}

// forEachBackend runs fn once per backend, each with a fresh app.
func forEachBackend(t *testing.T, fn func(t *testing.T, app *testApp, be backend)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			fn(t, startApp(t, be.env(t)), be)
		})
	}
}
