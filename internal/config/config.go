// Package config reads the handler's settings from the environment, once, in main. It chooses
// each dependency from the settings present and refuses half-configured ones with an error
// that names the missing settings, never a secret's value.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Config is every setting the handler reads.
type Config struct {
	Port          int
	DataDir       string // local mode: the SQLite store, queue, blobs and outbox live here
	AdminToken    string
	HashKey       []byte
	HashKeyID     string
	PublicBaseURL string
	TestClock     bool
	LogLevel      string

	Cosmos     Cosmos
	Blob       Blob
	ServiceBus ServiceBus
	ManagedID  string // AZURE_CLIENT_ID of a user-assigned identity; empty: system-assigned
	BcryptCost int
	SeedDemo   bool // make run: create the demo brand if absent
}

// Cosmos selects Cosmos DB instead of the embedded store.
type Cosmos struct {
	Endpoint string
	Database string
	Key      string // emulators only; Azure uses the managed identity
}

// Blob selects Azure Blob Storage instead of the blob folder.
type Blob struct {
	ServiceURL       string
	ConnectionString string // Azurite only
	Container        string
}

// ServiceBus selects Azure Service Bus instead of the embedded queue. Its setting is the one
// the Functions host's trigger binding reads, so both always name the same namespace.
type ServiceBus struct {
	Namespace string
}

// Enabled reports which managed services are configured.
func (c Cosmos) Enabled() bool     { return c.Endpoint != "" }
func (b Blob) Enabled() bool       { return b.ServiceURL != "" || b.ConnectionString != "" }
func (s ServiceBus) Enabled() bool { return s.Namespace != "" }

// AzureMode: queues belong to Azure Service Bus and the Functions host; every instance shares
// Cosmos DB and Blob Storage.
func (c Config) AzureMode() bool { return c.ServiceBus.Enabled() }

// Setting names.
const (
	EnvPort           = "FUNCTIONS_CUSTOMHANDLER_PORT"
	EnvDataDir        = "POPSELL_DATA_DIR"
	EnvAdminToken     = "POPSELL_ADMIN_TOKEN"
	EnvHashKey        = "GDPR_HASH_KEY"
	EnvHashKeyID      = "GDPR_HASH_KEY_ID"
	EnvPublicBaseURL  = "POPSELL_PUBLIC_BASE_URL"
	EnvTestClock      = "POPSELL_TEST_CLOCK"
	EnvLogLevel       = "POPSELL_LOG_LEVEL"
	EnvCosmosEndpoint = "POPSELL_COSMOS_ENDPOINT"
	EnvCosmosDatabase = "POPSELL_COSMOS_DATABASE"
	EnvCosmosKey      = "POPSELL_COSMOS_KEY"
	EnvBlobURL        = "POPSELL_BLOB_SERVICE_URL"
	EnvBlobConnection = "POPSELL_BLOB_CONNECTION_STRING"
	EnvBlobContainer  = "POPSELL_BLOB_CONTAINER"
	EnvServiceBus     = "ServiceBusConnection__fullyQualifiedNamespace"
	EnvClientID       = "AZURE_CLIENT_ID"
	EnvBcryptCost     = "POPSELL_BCRYPT_COST"
	EnvSeedDemo       = "POPSELL_SEED_DEMO"
)

// Load reads the settings through getenv (os.Getenv in main, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := Config{
		DataDir:       or(get(EnvDataDir), ".local"),
		AdminToken:    get(EnvAdminToken),
		HashKeyID:     or(get(EnvHashKeyID), "h1"),
		PublicBaseURL: strings.TrimRight(get(EnvPublicBaseURL), "/"),
		LogLevel:      or(get(EnvLogLevel), "info"),
		Cosmos:        Cosmos{Endpoint: get(EnvCosmosEndpoint), Database: get(EnvCosmosDatabase), Key: get(EnvCosmosKey)},
		Blob:          Blob{ServiceURL: get(EnvBlobURL), ConnectionString: get(EnvBlobConnection), Container: get(EnvBlobContainer)},
		ServiceBus:    ServiceBus{Namespace: get(EnvServiceBus)},
		ManagedID:     get(EnvClientID),
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	port, err := strconv.Atoi(or(get(EnvPort), "7071"))
	if err != nil || port < 0 || port > 65535 {
		bad("%s must be a TCP port number", EnvPort)
	}
	c.Port = port
	if len(c.AdminToken) < 16 {
		bad("%s must be set to a secret of at least 16 characters", EnvAdminToken)
	}
	if c.HashKey, err = decodeKey(get(EnvHashKey)); err != nil {
		bad("%s %v", EnvHashKey, err)
	}
	if c.PublicBaseURL == "" {
		c.PublicBaseURL = fmt.Sprintf("http://localhost:%d", c.Port)
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("%s must be an absolute http(s) URL", EnvPublicBaseURL)
	}
	c.TestClock, err = parseBool(get(EnvTestClock))
	if err != nil {
		bad("%s must be 1/0 or true/false", EnvTestClock)
	}
	c.SeedDemo, err = parseBool(get(EnvSeedDemo))
	if err != nil {
		bad("%s must be 1/0 or true/false", EnvSeedDemo)
	}
	c.BcryptCost, err = strconv.Atoi(or(get(EnvBcryptCost), "10"))
	if err != nil || c.BcryptCost < 4 || c.BcryptCost > 16 {
		bad("%s must be a bcrypt cost from 4 to 16", EnvBcryptCost)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("%s must be debug, info, warn or error", EnvLogLevel)
	}

	// Half-configured dependencies are refused rather than silently replaced by local ones.
	if c.Cosmos.Enabled() && c.Cosmos.Database == "" {
		bad("%s is set but %s is missing", EnvCosmosEndpoint, EnvCosmosDatabase)
	}
	if !c.Cosmos.Enabled() && (c.Cosmos.Database != "" || c.Cosmos.Key != "") {
		bad("%s is missing while other Cosmos DB settings are set", EnvCosmosEndpoint)
	}
	if c.Blob.Enabled() && c.Blob.Container == "" {
		bad("%s is missing while Blob Storage is configured", EnvBlobContainer)
	}
	if c.Blob.ServiceURL != "" && c.Blob.ConnectionString != "" {
		bad("set only one of %s (managed identity) and %s (Azurite)", EnvBlobURL, EnvBlobConnection)
	}
	if !c.Blob.Enabled() && c.Blob.Container != "" {
		bad("%s is set but neither %s nor %s is", EnvBlobContainer, EnvBlobURL, EnvBlobConnection)
	}
	if c.AzureMode() {
		// Under the Functions host in Azure, every instance must share state and use the
		// managed identity: no embedded store, no keys, no test clock.
		if !c.Cosmos.Enabled() {
			bad("%s is set (Azure mode) but %s is missing", EnvServiceBus, EnvCosmosEndpoint)
		}
		if c.Blob.ServiceURL == "" {
			bad("%s is set (Azure mode) but %s is missing", EnvServiceBus, EnvBlobURL)
		}
		if c.Cosmos.Key != "" || c.Blob.ConnectionString != "" {
			bad("Azure mode uses the managed identity: unset %s and %s", EnvCosmosKey, EnvBlobConnection)
		}
		if c.TestClock {
			bad("%s is refused in Azure mode", EnvTestClock)
		}
		if c.SeedDemo {
			bad("%s is refused in Azure mode", EnvSeedDemo)
		}
		if c.BcryptCost < 10 {
			bad("%s must be at least 10 in Azure mode", EnvBcryptCost)
		}
	}
	if c.Cosmos.Enabled() && c.Cosmos.Key == "" && !c.AzureMode() {
		bad("%s without %s needs Azure mode (%s)", EnvCosmosEndpoint, EnvCosmosKey, EnvServiceBus)
	}
	if len(problems) > 0 {
		return Config{}, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// decodeKey accepts the hash key as hex or base64, at least 32 bytes.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("must be set (32+ random bytes, hex or base64; from Key Vault in Azure)")
	}
	if k, err := hex.DecodeString(s); err == nil && len(k) >= 32 {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) >= 32 {
		return k, nil
	}
	return nil, errors.New("must be at least 32 bytes, hex or base64 encoded")
}

func parseBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	return strconv.ParseBool(s)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
