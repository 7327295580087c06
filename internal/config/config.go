// Package config reads the handler's settings from the environment, once, in main. It chooses
// each dependency from the settings present and refuses half-configured ones with an error
// that names the missing settings, never a secret's value.
package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Config is every setting the handler reads.
type Config struct {
	Port       int
	DataDir    string // local mode: the SQLite store, queue, blobs and outbox live here
	AdminToken string
	HashKey    []byte
	HashKeyID  string
	// HashKeys is every key version, oldest first; the last is HashKeyID's, HashKey. With
	// one key it holds that one.
	HashKeys []HashKey
	// HashKeysRetired names versions kept only to compute the inside of wrapped digests.
	HashKeysRetired []string
	PublicBaseURL   string
	TestClock       bool
	LogLevel        string

	Cosmos     Cosmos
	Blob       Blob
	ServiceBus ServiceBus
	Mailjet    Mailjet
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

// Mailjet selects Mailjet delivery instead of the outbox folder. The keys are the names the
// Mailjet SDK's documentation uses; in Azure they are Key Vault references.
type Mailjet struct {
	PublicKey  string
	PrivateKey string
	BaseURL    string // empty: Mailjet's API; tests point it at a fake
	From       string // the platform's default sender, for brands without their own
	FromName   string
}

// Enabled reports Mailjet keys.
func (m Mailjet) Enabled() bool { return m.PublicKey != "" || m.PrivateKey != "" }

// Enabled reports which managed services are configured.
func (c Cosmos) Enabled() bool     { return c.Endpoint != "" }
func (b Blob) Enabled() bool       { return b.ServiceURL != "" || b.ConnectionString != "" }
func (s ServiceBus) Enabled() bool { return s.Namespace != "" }

// AzureMode: queues belong to Azure Service Bus and the Functions host; every instance shares
// Cosmos DB and Blob Storage.
func (c Config) AzureMode() bool { return c.ServiceBus.Enabled() }

// Setting names.
const (
	EnvPort            = "FUNCTIONS_CUSTOMHANDLER_PORT"
	EnvDataDir         = "POPSELL_DATA_DIR"
	EnvAdminToken      = "POPSELL_ADMIN_TOKEN"
	EnvHashKey         = "GDPR_HASH_KEY"
	EnvHashKeyID       = "GDPR_HASH_KEY_ID"
	EnvHashKeys        = "GDPR_HASH_KEYS"
	EnvHashKeysRetired = "GDPR_HASH_KEYS_RETIRED"
	EnvPublicBaseURL   = "POPSELL_PUBLIC_BASE_URL"
	EnvTestClock       = "POPSELL_TEST_CLOCK"
	EnvLogLevel        = "POPSELL_LOG_LEVEL"
	EnvCosmosEndpoint  = "POPSELL_COSMOS_ENDPOINT"
	EnvCosmosDatabase  = "POPSELL_COSMOS_DATABASE"
	EnvCosmosKey       = "POPSELL_COSMOS_KEY"
	EnvBlobURL         = "POPSELL_BLOB_SERVICE_URL"
	EnvBlobConnection  = "POPSELL_BLOB_CONNECTION_STRING"
	EnvBlobContainer   = "POPSELL_BLOB_CONTAINER"
	EnvServiceBus      = "ServiceBusConnection__fullyQualifiedNamespace"
	EnvClientID        = "AZURE_CLIENT_ID"
	EnvBcryptCost      = "POPSELL_BCRYPT_COST"
	EnvSeedDemo        = "POPSELL_SEED_DEMO"
	EnvMailjetPublic   = "MJ_APIKEY_PUBLIC"
	EnvMailjetPrivate  = "MJ_APIKEY_PRIVATE"
	EnvMailjetBaseURL  = "POPSELL_MAILJET_BASE_URL"
	EnvMailFrom        = "POPSELL_MAIL_FROM"
	EnvMailFromName    = "POPSELL_MAIL_FROM_NAME"
)

// Load reads the settings through getenv (os.Getenv in main, a map in tests) and checks them.
// It reports every problem at once, so that fixing a deployment takes one pass rather than one
// restart per missing setting.
func Load(getenv func(string) string) (Config, error) {
	c, problems := read(getenv)
	for _, check := range checks {
		problems = append(problems, check(c)...)
	}
	if len(problems) > 0 {
		return Config{}, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// read takes every setting from the environment, applies its default and converts it to its
// type. Its problems are only text that does not convert; whether the values are acceptable,
// alone or together, is for the checks, which can then be plain functions of a Config.
func read(getenv func(string) string) (Config, []string) {
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
		Mailjet: Mailjet{PublicKey: get(EnvMailjetPublic), PrivateKey: get(EnvMailjetPrivate),
			BaseURL: get(EnvMailjetBaseURL), From: get(EnvMailFrom), FromName: get(EnvMailFromName)},
		ManagedID: get(EnvClientID),
	}
	var problems []string
	var err error
	if c.Port, err = strconv.Atoi(or(get(EnvPort), "7071")); err != nil || c.Port < 0 || c.Port > 65535 {
		problems = append(problems, EnvPort+" must be a TCP port number")
	}
	// The key's length is judged here rather than in a check because it decides the encoding:
	// hex that decodes to 32 bytes is hex even when it is also valid base64.
	if c.HashKeys, err = decodeKeys(get(EnvHashKeys)); err != nil {
		problems = append(problems, EnvHashKeys+" "+err.Error())
	}
	// GDPR_HASH_KEYS may hold the newest key itself; otherwise GDPR_HASH_KEY is it.
	if key := get(EnvHashKey); key != "" || get(EnvHashKeys) == "" {
		if c.HashKey, err = decodeKey(key); err != nil {
			problems = append(problems, EnvHashKey+" "+err.Error())
		}
	}
	if r := get(EnvHashKeysRetired); r != "" {
		for v := range strings.SplitSeq(r, ",") {
			c.HashKeysRetired = append(c.HashKeysRetired, strings.TrimSpace(v))
		}
	}
	c.HashKeys = withNewest(c.HashKeys, HashKey{Version: c.HashKeyID, Key: c.HashKey})
	if c.HashKey == nil && len(c.HashKeys) > 0 && c.HashKeys[len(c.HashKeys)-1].Version == c.HashKeyID {
		c.HashKey = c.HashKeys[len(c.HashKeys)-1].Key
	}
	// Locally, links in mails point at this machine. In Azure mode there is no default:
	// localhost there is the instance, which no recipient can reach (checkPublicBaseURL).
	if c.PublicBaseURL == "" && !c.AzureMode() {
		c.PublicBaseURL = fmt.Sprintf("http://localhost:%d", c.Port)
	}
	if c.TestClock, err = parseBool(get(EnvTestClock)); err != nil {
		problems = append(problems, EnvTestClock+" must be 1/0 or true/false")
	}
	if c.SeedDemo, err = parseBool(get(EnvSeedDemo)); err != nil {
		problems = append(problems, EnvSeedDemo+" must be 1/0 or true/false")
	}
	// A cost that is not a number reads as 0, which checkBcryptCost refuses with the range
	// an operator needs to know.
	c.BcryptCost, _ = strconv.Atoi(or(get(EnvBcryptCost), "10"))
	return c, problems
}

// checks judge a Config read from the environment, one concern each, so a new dependency adds
// its settings to read and its check here. Problems name settings, never a value: some of
// them are secrets, and this error is logged.
var checks = []func(Config) []string{
	checkHashKeys,
	checkAdminToken,
	checkPublicBaseURL,
	checkBcryptCost,
	checkLogLevel,
	checkCosmos,
	checkBlob,
	checkMailjet,
	checkAzureMode,
}

// checkMailjet: both keys or neither, and a default sender with them. Without keys, local mode
// writes mail to the outbox folder; Azure mode refuses to start (checkAzureMode).
func checkMailjet(c Config) []string {
	m := c.Mailjet
	if !m.Enabled() {
		return nil
	}
	var problems []string
	if m.PublicKey == "" || m.PrivateKey == "" {
		problems = append(problems, fmt.Sprintf("set both %s and %s, or neither", EnvMailjetPublic, EnvMailjetPrivate))
	}
	if at := strings.IndexByte(m.From, '@'); at < 1 || at == len(m.From)-1 || strings.ContainsAny(m.From, " <>") {
		problems = append(problems, fmt.Sprintf("%s must be the default sender's address when Mailjet is configured", EnvMailFrom))
	}
	if m.BaseURL != "" {
		if u, err := url.Parse(m.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			problems = append(problems, EnvMailjetBaseURL+" must be an absolute http(s) URL")
		}
	}
	return problems
}

func checkAdminToken(c Config) []string {
	if len(c.AdminToken) < 16 {
		return []string{EnvAdminToken + " must be set to a secret of at least 16 characters"}
	}
	return nil
}

// checkPublicBaseURL: links in mails are built from it, so it must be usable from outside.
// In Azure mode it must be set, to an https URL that is not a loopback host: a confirmation
// link to localhost or in clear text would reach no one, or be readable on the way.
func checkPublicBaseURL(c Config) []string {
	if c.PublicBaseURL == "" {
		return []string{fmt.Sprintf("%s is required in Azure mode (%s is set): links in mails must name the app's public https address", EnvPublicBaseURL, EnvServiceBus)}
	}
	u, err := url.Parse(c.PublicBaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return []string{EnvPublicBaseURL + " must be an absolute http(s) URL"}
	}
	if c.AzureMode() && (u.Scheme != "https" || loopback(u.Hostname())) {
		return []string{EnvPublicBaseURL + " must be the app's public https address in Azure mode, not localhost or http"}
	}
	return nil
}

// loopback reports a host name that only ever means this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// checkBcryptCost: 4 is bcrypt's minimum, and past 16 a single signup hashes for seconds.
func checkBcryptCost(c Config) []string {
	if c.BcryptCost < 4 || c.BcryptCost > 16 {
		return []string{EnvBcryptCost + " must be a bcrypt cost from 4 to 16"}
	}
	return nil
}

func checkLogLevel(c Config) []string {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
		return nil
	}
	return []string{EnvLogLevel + " must be debug, info, warn or error"}
}

// checkCosmos refuses a half-configured Cosmos DB rather than silently falling back to the
// embedded store, which would keep this instance's data apart from its peers'.
func checkCosmos(c Config) []string {
	var problems []string
	if c.Cosmos.Enabled() && c.Cosmos.Database == "" {
		problems = append(problems, fmt.Sprintf("%s is set but %s is missing", EnvCosmosEndpoint, EnvCosmosDatabase))
	}
	if !c.Cosmos.Enabled() && (c.Cosmos.Database != "" || c.Cosmos.Key != "") {
		problems = append(problems, fmt.Sprintf("%s is missing while other Cosmos DB settings are set", EnvCosmosEndpoint))
	}
	return problems
}

// checkBlob refuses a half-configured Blob Storage for the same reason, and an ambiguous one:
// the service URL and the connection string name different credentials.
func checkBlob(c Config) []string {
	var problems []string
	if c.Blob.Enabled() && c.Blob.Container == "" {
		problems = append(problems, fmt.Sprintf("%s is missing while Blob Storage is configured", EnvBlobContainer))
	}
	if c.Blob.ServiceURL != "" && c.Blob.ConnectionString != "" {
		problems = append(problems, fmt.Sprintf("set only one of %s (managed identity) and %s (Azurite)", EnvBlobURL, EnvBlobConnection))
	}
	if !c.Blob.Enabled() && c.Blob.Container != "" {
		problems = append(problems, fmt.Sprintf("%s is set but neither %s nor %s is", EnvBlobContainer, EnvBlobURL, EnvBlobConnection))
	}
	return problems
}

// checkAzureMode: under the Functions host in Azure, every instance must share state and use
// the managed identity: no embedded store, no keys, no test clock. The managed identity is
// also only wired in Azure mode, so Cosmos DB without a key needs it.
func checkAzureMode(c Config) []string {
	if !c.AzureMode() {
		if c.Cosmos.Enabled() && c.Cosmos.Key == "" {
			return []string{fmt.Sprintf("%s without %s needs Azure mode (%s)", EnvCosmosEndpoint, EnvCosmosKey, EnvServiceBus)}
		}
		return nil
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
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
	if !c.Mailjet.Enabled() {
		bad("%s is set (Azure mode) but %s and %s are missing: Azure mode sends mail with Mailjet", EnvServiceBus, EnvMailjetPublic, EnvMailjetPrivate)
	}
	return problems
}

// HashKey is one version of the hash key.
type HashKey struct {
	Version string
	Key     []byte
}

// decodeKeys reads GDPR_HASH_KEYS: "<version>:<key>" pairs, comma-separated, oldest first,
// each key as decodeKey takes it. Its errors name the position of a pair, never its text: the
// setting is a secret.
func decodeKeys(s string) ([]HashKey, error) {
	if s == "" {
		return nil, nil
	}
	var out []HashKey
	for i, pair := range strings.Split(s, ",") {
		version, key, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok {
			return nil, fmt.Errorf("entry %d must be <version>:<key>", i+1)
		}
		k, err := decodeKey(key)
		if err != nil {
			return nil, fmt.Errorf("entry %d: key %v", i+1, err)
		}
		out = append(out, HashKey{Version: version, Key: k})
	}
	return out, nil
}

// withNewest puts GDPR_HASH_KEY, the newest key, last in the list unless the list already
// holds its version (checkHashKeys then requires the same key, last).
func withNewest(keys []HashKey, newest HashKey) []HashKey {
	if newest.Key == nil {
		return keys
	}
	for _, k := range keys {
		if k.Version == newest.Version {
			return keys
		}
	}
	return append(keys, newest)
}

// checkHashKeys: every version a short word, named once; GDPR_HASH_KEY_ID the newest, last in
// GDPR_HASH_KEYS when that lists it, with the same key as GDPR_HASH_KEY when both are set; a
// retired version one of the keys and never the newest. GDPR_HASH_KEY alone is one key.
func checkHashKeys(c Config) []string {
	if len(c.HashKeys) == 0 {
		return nil // GDPR_HASH_KEY's own problem is already reported
	}
	var problems []string
	seen := map[string]bool{}
	for _, k := range c.HashKeys {
		if !validVersion(k.Version) {
			problems = append(problems, EnvHashKeys+" and "+EnvHashKeyID+" versions must be 1-16 letters and digits, beginning with a letter")
		} else if seen[k.Version] {
			problems = append(problems, EnvHashKeys+" names a version twice")
		}
		seen[k.Version] = true
	}
	last := c.HashKeys[len(c.HashKeys)-1]
	if last.Version != c.HashKeyID {
		problems = append(problems, EnvHashKeyID+" must name the newest key, the last of "+EnvHashKeys)
	} else if c.HashKey != nil && !bytes.Equal(last.Key, c.HashKey) {
		problems = append(problems, EnvHashKey+" and "+EnvHashKeys+" give different keys for "+EnvHashKeyID)
	}
	for _, v := range c.HashKeysRetired {
		switch {
		case !seen[v]:
			problems = append(problems, EnvHashKeysRetired+" must name versions of "+EnvHashKeys)
		case v == c.HashKeyID:
			problems = append(problems, EnvHashKeysRetired+" cannot name the newest key, "+EnvHashKeyID)
		}
	}
	return problems
}

// validVersion is gdpr.ValidKeyVersion's rule (config imports no other internal package).
func validVersion(v string) bool {
	if v == "" || len(v) > 16 {
		return false
	}
	for i, r := range v {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
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
