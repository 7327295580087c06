package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func load(env map[string]string) (Config, error) {
	base := map[string]string{EnvAdminToken: "admin-token-0123456789", EnvHashKey: key}
	for k, v := range env {
		if v == "" {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return Load(func(k string) string { return base[k] })
}

func TestLocalDefaults(t *testing.T) {
	c, err := load(nil)
	require.NoError(t, err)
	require.Equal(t, 7071, c.Port)
	require.Equal(t, ".local", c.DataDir)
	require.Equal(t, "http://localhost:7071", c.PublicBaseURL)
	require.False(t, c.AzureMode())
	require.False(t, c.Cosmos.Enabled())
	require.Len(t, c.HashKey, 32)
}

func TestRefused(t *testing.T) {
	sb := "ns.servicebus.windows.net"
	cases := []struct {
		name string
		env  map[string]string
		says []string // names that must appear in the error
	}{
		{"admin_token_missing", map[string]string{EnvAdminToken: ""}, []string{EnvAdminToken}},
		{"admin_token_short", map[string]string{EnvAdminToken: "short"}, []string{EnvAdminToken}},
		{"R-ERASE-4_hash_key_missing", map[string]string{EnvHashKey: ""}, []string{EnvHashKey}},
		{"R-ERASE-4_hash_key_short", map[string]string{EnvHashKey: "abcd"}, []string{EnvHashKey}},
		{"bad_port", map[string]string{EnvPort: "http"}, []string{EnvPort}},
		{"cosmos_without_database", map[string]string{EnvCosmosEndpoint: "http://127.0.0.1:8081/", EnvCosmosKey: "k"}, []string{EnvCosmosDatabase}},
		{"cosmos_key_without_endpoint", map[string]string{EnvCosmosKey: "k"}, []string{EnvCosmosEndpoint}},
		{"blob_without_container", map[string]string{EnvBlobConnection: "UseDevelopmentStorage=true"}, []string{EnvBlobContainer}},
		{"azure_mode_half_configured", map[string]string{EnvServiceBus: sb}, []string{EnvCosmosEndpoint, EnvBlobURL}},
		{"azure_mode_refuses_keys_and_test_clock", map[string]string{
			EnvServiceBus: sb, EnvCosmosEndpoint: "https://a.documents.azure.com/", EnvCosmosDatabase: "db",
			EnvCosmosKey: "secret-emulator-key", EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobContainer: "c", EnvTestClock: "1",
		}, []string{EnvCosmosKey, EnvTestClock}},
		{"cosmos_identity_outside_azure_mode", map[string]string{EnvCosmosEndpoint: "https://a.documents.azure.com/", EnvCosmosDatabase: "db"}, []string{EnvServiceBus}},
		{"azure_mode_without_public_base_url", map[string]string{
			EnvServiceBus: sb, EnvCosmosEndpoint: "https://a.documents.azure.com/", EnvCosmosDatabase: "db",
			EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobContainer: "c",
			EnvMailjetPublic: "p", EnvMailjetPrivate: "secret-emulator-key", EnvMailFrom: "a@b.cd",
		}, []string{EnvPublicBaseURL + " is required in Azure mode"}},
		{"azure_mode_localhost_base_url", map[string]string{
			EnvServiceBus: sb, EnvCosmosEndpoint: "https://a.documents.azure.com/", EnvCosmosDatabase: "db",
			EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobContainer: "c",
			EnvMailjetPublic: "p", EnvMailjetPrivate: "secret-emulator-key", EnvMailFrom: "a@b.cd",
			EnvPublicBaseURL: "https://localhost:7071",
		}, []string{EnvPublicBaseURL}},
		{"azure_mode_loopback_ip_base_url", map[string]string{
			EnvServiceBus: sb, EnvCosmosEndpoint: "https://a.documents.azure.com/", EnvCosmosDatabase: "db",
			EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobContainer: "c",
			EnvMailjetPublic: "p", EnvMailjetPrivate: "secret-emulator-key", EnvMailFrom: "a@b.cd",
			EnvPublicBaseURL: "https://127.0.0.1",
		}, []string{EnvPublicBaseURL}},
		{"azure_mode_http_base_url", map[string]string{
			EnvServiceBus: sb, EnvCosmosEndpoint: "https://a.documents.azure.com/", EnvCosmosDatabase: "db",
			EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobContainer: "c",
			EnvMailjetPublic: "p", EnvMailjetPrivate: "secret-emulator-key", EnvMailFrom: "a@b.cd",
			EnvPublicBaseURL: "http://members.brand.example",
		}, []string{EnvPublicBaseURL}},
		{"azure_mode_without_mailjet", map[string]string{
			EnvServiceBus: sb, EnvCosmosEndpoint: "https://a.documents.azure.com/", EnvCosmosDatabase: "db",
			EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobContainer: "c",
		}, []string{EnvMailjetPublic, EnvMailjetPrivate}},
		{"mailjet_half_configured", map[string]string{EnvMailjetPublic: "secret-emulator-key"}, []string{EnvMailjetPrivate, EnvMailFrom}},
		{"mailjet_bad_base_url", map[string]string{EnvMailjetPublic: "p", EnvMailjetPrivate: "secret-emulator-key", EnvMailFrom: "a@b.cd", EnvMailjetBaseURL: "api.mailjet.com"}, []string{EnvMailjetBaseURL}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(c.env)
			require.Error(t, err)
			for _, s := range c.says {
				require.Contains(t, err.Error(), s)
			}
			// Never a secret's value in the message.
			require.NotContains(t, err.Error(), "secret-emulator-key")
			require.NotContains(t, err.Error(), key)
		})
	}
}

func TestAzureMode(t *testing.T) {
	c, err := load(map[string]string{
		EnvServiceBus: "ns.servicebus.windows.net", EnvCosmosEndpoint: "https://a.documents.azure.com/",
		EnvCosmosDatabase: "db", EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobContainer: "gdpr",
		EnvClientID:      "11111111-2222-3333-4444-555555555555",
		EnvMailjetPublic: "mj-public", EnvMailjetPrivate: "mj-private", EnvMailFrom: "no-reply@popsell.example",
		EnvPublicBaseURL: "https://members.popsell.example/",
	})
	require.NoError(t, err)
	require.True(t, c.AzureMode())
	require.Equal(t, "11111111-2222-3333-4444-555555555555", c.ManagedID)
	require.Equal(t, "https://members.popsell.example", c.PublicBaseURL)
}

func TestEmulatorMode(t *testing.T) {
	c, err := load(map[string]string{
		EnvCosmosEndpoint: "http://127.0.0.1:8081/", EnvCosmosDatabase: "db", EnvCosmosKey: "k",
		EnvBlobConnection: "UseDevelopmentStorage=true", EnvBlobContainer: "gdpr", EnvTestClock: "1",
	})
	require.NoError(t, err)
	require.False(t, c.AzureMode(), "queues stay embedded: there is no Service Bus emulator")
	require.True(t, c.Cosmos.Enabled())
	require.True(t, c.Blob.Enabled())
	require.True(t, c.TestClock)
}

// TestSampleSettingsNameEverySetting keeps local.settings.sample.json true: every setting the
// code reads is in it.
func TestSampleSettingsNameEverySetting(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "local.settings.sample.json"))
	require.NoError(t, err)
	var sample struct{ Values map[string]string }
	require.NoError(t, json.Unmarshal(raw, &sample))
	src, err := os.ReadFile("config.go")
	require.NoError(t, err)
	for line := range strings.Lines(string(src)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), "= \"")
		if !ok || !strings.HasPrefix(name, "Env") {
			continue
		}
		setting := strings.TrimSuffix(strings.TrimSpace(value), "\"")
		if setting == EnvPort {
			continue // set by the Functions host itself, never by an operator
		}
		_, present := sample.Values[setting]
		require.True(t, present, "%s missing from local.settings.sample.json", setting)
	}
}

// TestErrorsQuoteNoSecret: the error is logged at start-up, so it may name a secret setting
// but never repeat its value, whether the value is refused or another setting is.
func TestErrorsQuoteNoSecret(t *testing.T) {
	const (
		token     = "admin-SECRET-token-value"
		shortTok  = "SECRET-tok"
		hashKey   = "5ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75"
		badKey    = "SECRET-key-not-hex-nor-base64"
		shortKey  = "5ec12e75ec12e75e"
		cosmosKey = "SECRET-cosmos-key=="
		blobConn  = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SECRET-blob-key=="
	)
	sb := "ns.servicebus.windows.net"
	cases := []struct {
		name string
		env  map[string]string
	}{
		{"short_admin_token", map[string]string{EnvAdminToken: shortTok}},
		{"hash_key_not_encoded", map[string]string{EnvHashKey: badKey}},
		{"hash_key_short", map[string]string{EnvHashKey: shortKey}},
		{"hash_keys_short", map[string]string{EnvHashKeys: "h0:" + shortKey}},
		{"hash_keys_not_encoded", map[string]string{EnvHashKeys: "h0:" + badKey}},
		{"hash_keys_disagree", map[string]string{EnvHashKeys: "h1:" + hashKey[2:] + "00"}},
		{"hash_keys_without_version", map[string]string{EnvHashKeys: hashKey}},
		{"cosmos_key_without_endpoint", map[string]string{EnvCosmosKey: cosmosKey}},
		{"blob_connection_without_container", map[string]string{EnvBlobConnection: blobConn}},
		{"blob_connection_and_url", map[string]string{EnvBlobConnection: blobConn, EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobContainer: "c"}},
		{"azure_mode_refuses_keys", map[string]string{
			EnvServiceBus: sb, EnvCosmosEndpoint: "https://a.documents.azure.com/", EnvCosmosDatabase: "db", EnvCosmosKey: cosmosKey,
			EnvBlobURL: "https://a.blob.core.windows.net/", EnvBlobConnection: blobConn, EnvBlobContainer: "c",
		}},
		{"valid_secrets_beside_a_bad_setting", map[string]string{EnvLogLevel: "verbose", EnvCosmosKey: cosmosKey, EnvBlobConnection: blobConn}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{EnvAdminToken: token, EnvHashKey: hashKey}
			for k, v := range c.env {
				env[k] = v
			}
			_, err := Load(func(k string) string { return env[k] })
			require.Error(t, err)
			require.NotContains(t, err.Error(), "SECRET")
			require.NotContains(t, err.Error(), "5ec12e75")
		})
	}
}

// TestHashKeyVersions: several key versions, oldest first, the newest named by
// GDPR_HASH_KEY_ID; the single-key settings keep working (R-ERASE-4).
func TestHashKeyVersions(t *testing.T) {
	const older = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
	t.Run("single_key", func(t *testing.T) {
		c, err := load(nil)
		require.NoError(t, err)
		require.Equal(t, []HashKey{{Version: "h1", Key: c.HashKey}}, c.HashKeys)
	})
	t.Run("older_keys_then_GDPR_HASH_KEY", func(t *testing.T) {
		c, err := load(map[string]string{EnvHashKeys: "h1:" + older, EnvHashKeyID: "h2"})
		require.NoError(t, err)
		require.Len(t, c.HashKeys, 2)
		require.Equal(t, "h1", c.HashKeys[0].Version)
		require.Equal(t, "h2", c.HashKeys[1].Version)
		require.Equal(t, c.HashKey, c.HashKeys[1].Key)
	})
	t.Run("every_key_in_GDPR_HASH_KEYS", func(t *testing.T) {
		c, err := load(map[string]string{EnvHashKey: "", EnvHashKeys: "h1:" + older + ", h2:" + key, EnvHashKeyID: "h2", EnvHashKeysRetired: "h1"})
		require.NoError(t, err)
		require.Len(t, c.HashKeys, 2)
		require.Len(t, c.HashKey, 32)
		require.Equal(t, []string{"h1"}, c.HashKeysRetired)
	})
	refused := []struct {
		name string
		env  map[string]string
		says string
	}{
		{"newest_not_last", map[string]string{EnvHashKey: "", EnvHashKeys: "h2:" + key + ",h1:" + older, EnvHashKeyID: "h2"}, EnvHashKeyID},
		{"version_twice", map[string]string{EnvHashKeys: "h1:" + older + ",h1:" + older, EnvHashKeyID: "h2"}, EnvHashKeys},
		{"version_with_a_dot", map[string]string{EnvHashKeys: "h.1:" + older, EnvHashKeyID: "h2"}, EnvHashKeys},
		{"key_id_with_a_colon", map[string]string{EnvHashKeyID: "h:2"}, EnvHashKeyID},
		{"retired_newest", map[string]string{EnvHashKeysRetired: "h1"}, EnvHashKeysRetired},
		{"retired_unknown", map[string]string{EnvHashKeysRetired: "h0"}, EnvHashKeysRetired},
		{"newest_key_missing", map[string]string{EnvHashKey: "", EnvHashKeys: "h1:" + older, EnvHashKeyID: "h2"}, EnvHashKeyID},
	}
	for _, c := range refused {
		t.Run("refused_"+c.name, func(t *testing.T) {
			_, err := load(c.env)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.says)
			require.NotContains(t, err.Error(), older[:16])
		})
	}
}

// FuzzHashKeysSetting: GDPR_HASH_KEYS is a secret from the environment; whatever it holds,
// Load either refuses it, naming the setting and never a byte of it, or gives keys of 32+
// bytes under distinct versions, the newest last.
func FuzzHashKeysSetting(f *testing.F) {
	for _, s := range []string{"h1:" + key, "h0:" + key + ",h1:" + key, "h0:abcd", ",", "h0:", ":" + key, "h0:" + key + ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := load(map[string]string{EnvHashKeys: s, EnvHashKeyID: "h1"})
		if err != nil {
			require.Contains(t, err.Error(), "GDPR_HASH_KEY")
			if len(s) >= 8 && strings.TrimSpace(s) == s && !strings.Contains("configuration: "+EnvHashKeys+EnvHashKeyID+EnvHashKey+EnvHashKeysRetired, s) {
				require.NotContains(t, err.Error(), s)
			}
			return
		}
		require.NotEmpty(t, c.HashKeys)
		require.Equal(t, "h1", c.HashKeys[len(c.HashKeys)-1].Version)
		seen := map[string]bool{}
		for _, k := range c.HashKeys {
			require.GreaterOrEqual(t, len(k.Key), 32)
			require.False(t, seen[k.Version])
			seen[k.Version] = true
		}
	})
}
