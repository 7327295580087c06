package infra_test

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fakeAz stands in for the Azure CLI: it records each call (arguments separated by tabs, one
// call a line), keeps a copy of the parameters file the deployment is given (deploy.sh
// removes its own on exit) with its permissions, and answers the questions deploy.sh asks
// from FAKE_AZ_* variables: whether the group exists, the Key Vaults in it, the names of the
// vault's secrets.
const fakeAz = `#!/bin/sh
{ for a in "$@"; do printf '%s\t' "$a"; done; printf '\n'; } >>"$FAKE_AZ_DIR/calls"
for a in "$@"; do
  case $a in
  @*)
    cp "${a#@}" "$FAKE_AZ_DIR/params.json"
    stat -c %a "${a#@}" >"$FAKE_AZ_DIR/params.mode" 2>/dev/null || stat -f %Lp "${a#@}" >"$FAKE_AZ_DIR/params.mode"
    ;;
  esac
done
case "$1 $2" in
"group exists") echo "${FAKE_AZ_GROUP_EXISTS:-false}" ;;
"resource list") [ -z "$FAKE_AZ_VAULTS" ] || printf '%s\n' $FAKE_AZ_VAULTS ;;
"rest --method")
  if [ -n "$FAKE_AZ_REST_FAILS" ]; then echo "ERROR: (AuthorizationFailed) denied" >&2; exit 1; fi
  [ -z "$FAKE_AZ_SECRETS" ] || printf '%s\n' $FAKE_AZ_SECRETS
  ;;
"deployment group")
  case "$*" in
  *functionAppName*) echo func-popsell-test ;;
  *functionAppHostName*) echo func-popsell-test.azurewebsites.net ;;
  esac
  ;;
esac
`

// deployRun is what one run of tools/deploy.sh did.
type deployRun struct {
	code           int
	stdout, stderr string
	calls          [][]string        // az calls, in order
	params         map[string]string // the deployment's parameter values, from its parameters file
	paramsMode     string            // that file's permissions, as az saw them
}

// called reports the az calls whose arguments start with prefix.
func (r deployRun) called(prefix ...string) [][]string {
	var out [][]string
	for _, c := range r.calls {
		if len(c) >= len(prefix) && slices.Equal(c[:len(prefix)], prefix) {
			out = append(out, c)
		}
	}
	return out
}

// requireDeployTools skips when what deploy.sh runs on is missing, except in CI.
func requireDeployTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"bash", "python3", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; tools/deploy.sh needs it", tool)
			}
			t.Skipf("tools/deploy.sh not run: %s is not installed (CI unset)", tool)
		}
	}
}

// runDeploy runs tools/deploy.sh with the fake az first on PATH, in an environment holding
// only env (no secrets leak in from the test's own environment).
func runDeploy(t *testing.T, env map[string]string, args ...string) deployRun {
	t.Helper()
	requireDeployTools(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(fakeAz), 0o755); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(tmp, "package.zip")
	writePackage(t, pkg)
	scratch := filepath.Join(tmp, "scratch")
	if err := os.Mkdir(scratch, 0o700); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("bash", append([]string{filepath.Join("..", "tools", "deploy.sh"), "--package", pkg}, args...)...)
	cmd.Env = []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + tmp,
		"TMPDIR=" + scratch,
		"FAKE_AZ_DIR=" + tmp,
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	run := deployRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		run.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("deploy.sh did not run: %v", err)
	}

	if raw, err := os.ReadFile(filepath.Join(tmp, "calls")); err == nil {
		for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
			run.calls = append(run.calls, strings.Split(strings.TrimSuffix(line, "\t"), "\t"))
		}
	}
	if raw, err := os.ReadFile(filepath.Join(tmp, "params.json")); err == nil {
		var file struct {
			Parameters map[string]struct{ Value any } `json:"parameters"`
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			t.Fatalf("parameters file: %v", err)
		}
		run.params = map[string]string{}
		for k, v := range file.Parameters {
			s, ok := v.Value.(string)
			if !ok {
				t.Fatalf("parameter %s is not a string", k)
			}
			run.params[k] = s
		}
		mode, _ := os.ReadFile(filepath.Join(tmp, "params.mode"))
		run.paramsMode = strings.TrimSpace(string(mode))
	}
	if left, _ := os.ReadDir(scratch); len(left) != 0 {
		t.Errorf("deploy.sh left %d files in TMPDIR (the parameters file holds secrets)", len(left))
	}
	return run
}

// writePackage writes the smallest zip deploy.sh accepts: host.json and the handler at the
// root, one function.
func writePackage(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range []string{"host.json", "handler", "Health/function.json"} {
		if _, err := zw.Create(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// allSecrets is the environment of a first deployment, the hash key left to deploy.sh.
func allSecrets() map[string]string {
	return map[string]string{
		"POPSELL_MAIL_FROM":   "no-reply@example.test",
		"POPSELL_ADMIN_TOKEN": "admin-token-for-tests",
		"MJ_APIKEY_PUBLIC":    "mailjet-public-for-tests",
		"MJ_APIKEY_PRIVATE":   "mailjet-private-for-tests",
	}
}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestDeployRefusesRegions: a region outside the EU, a failover region equal to the primary
// or a primary without a named failover region is refused before any az call (R-OPS-2), with
// a message that says what to change and does not repeat the value given.
func TestDeployRefusesRegions(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		says string
		not  string
	}{
		{"non_EU_primary", allSecrets(), []string{"--location", "eastus"}, "--location (POPSELL_LOCATION) must be one of the EU regions", "eastus"},
		{"European_non_EU_primary", allSecrets(), []string{"--location", "uksouth"}, "must be one of the EU regions", "uksouth"},
		{"non_EU_primary_from_environment", with(allSecrets(), "POPSELL_LOCATION", "eastus2"), nil, "--location (POPSELL_LOCATION) must be one", "eastus2"},
		{"non_EU_secondary", allSecrets(), []string{"--secondary-location", "switzerlandnorth"}, "--secondary-location (POPSELL_SECONDARY_LOCATION) must be one", "switzerlandnorth"},
		{"same_region_twice", allSecrets(), []string{"--location", "northeurope", "--secondary-location", "northeurope"}, "must differ from --location", ""},
		{"same_region_twice_from_environment", with(allSecrets(), "POPSELL_SECONDARY_LOCATION", "westeurope"), nil, "must differ from --location", ""},
		{"primary_without_pair", allSecrets(), []string{"--location", "swedencentral"}, "name Cosmos DB's failover region: --secondary-location", ""},
		{"option_without_value", allSecrets(), []string{"--secondary-location"}, "--secondary-location needs a value", ""},
		// A dry run refuses the same, rather than printing commands Azure would deny.
		{"dry_run", allSecrets(), []string{"--dry-run", "--location", "eastus"}, "must be one of the EU regions", "eastus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runDeploy(t, c.env, c.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, c.says) {
				t.Errorf("stderr %q does not say %q", r.stderr, c.says)
			}
			if c.not != "" && strings.Contains(r.stderr+r.stdout, c.not) {
				t.Errorf("the message repeats the value given: %q", r.stderr)
			}
			if len(r.calls) != 0 {
				t.Errorf("az was called before the refusal: %q", r.calls)
			}
		})
	}
}

// regionPairs are valid choices and the regions each must reach Azure as.
var regionPairs = []struct {
	name               string
	env                map[string]string
	args               []string
	primary, secondary string
}{
	{"defaults", allSecrets(), nil, "westeurope", "northeurope"},
	{"north_Europe_fails_over_to_West", allSecrets(), []string{"--location", "northeurope"}, "northeurope", "westeurope"},
	{"named_pair", allSecrets(), []string{"--location", "swedencentral", "--secondary-location", "germanywestcentral"}, "swedencentral", "germanywestcentral"},
	{"pair_from_environment", with(allSecrets(), "POPSELL_LOCATION", "francecentral", "POPSELL_SECONDARY_LOCATION", "spaincentral"), nil, "francecentral", "spaincentral"},
}

// TestDeployRegionPairs: a valid pair creates the group in the primary region and gives the
// deployment both regions (main.bicep makes the policy allow exactly these two; see
// TestPolicyAllowsTheDeployedRegions). A dry run asks az nothing and names the pair.
func TestDeployRegionPairs(t *testing.T) {
	for _, c := range regionPairs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runDeploy(t, c.env, c.args...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			group := r.called("group", "create")
			if len(group) != 1 || !slices.Contains(group[0], "--location") || group[0][slices.Index(group[0], "--location")+1] != c.primary {
				t.Errorf("az group create calls %q, want one in %s", group, c.primary)
			}
			if n := len(r.called("deployment", "group", "create")); n != 1 {
				t.Fatalf("%d deployments, want 1", n)
			}
			if r.params["location"] != c.primary || r.params["secondaryLocation"] != c.secondary {
				t.Errorf("deployment parameters location=%q secondaryLocation=%q, want %s and %s",
					r.params["location"], r.params["secondaryLocation"], c.primary, c.secondary)
			}
			if _, ok := r.params["allowedLocations"]; ok {
				t.Errorf("allowedLocations passed: main.bicep derives it from the two regions")
			}

			dry := runDeploy(t, c.env, append([]string{"--dry-run"}, c.args...)...)
			if dry.code != 0 || len(dry.calls) != 0 {
				t.Errorf("dry run: exit %d, az calls %q; want 0 and none", dry.code, dry.calls)
			}
			if want := "regions " + c.primary + " (primary) and " + c.secondary + " (Cosmos DB failover)"; !strings.Contains(dry.stdout, want) {
				t.Errorf("dry run does not say %q:\n%s", want, dry.stdout)
			}
		})
	}
}

const testVaultID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/popsell-gdpr/providers/Microsoft.KeyVault/vaults/kv-test"

var hexKey = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestDeployHashKey: the hash key is generated whenever the vault lacks it (a first
// deployment, or a retry of one that failed part-way), never over one it holds; the other
// secrets the vault lacks must be given. The key reaches Azure only in the parameters file
// (mode 600, removed on exit): never on an az command line, never printed.
func TestDeployHashKey(t *testing.T) {
	mailOnly := map[string]string{"POPSELL_MAIL_FROM": "no-reply@example.test"}
	retry := with(mailOnly, "FAKE_AZ_GROUP_EXISTS", "true", "FAKE_AZ_VAULTS", testVaultID,
		"FAKE_AZ_SECRETS", "admin-token mailjet-public mailjet-private")

	generated := func(t *testing.T, r deployRun) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		key := r.params["gdprHashKey"]
		if !hexKey.MatchString(key) {
			t.Fatalf("gdprHashKey passed is %d characters, want 64 hex digits (32 random bytes)", len(key))
		}
		if r.paramsMode != "600" {
			t.Errorf("parameters file mode %s, want 600", r.paramsMode)
		}
		for _, c := range r.calls {
			if strings.Contains(strings.Join(c, " "), key) {
				t.Errorf("the key is on an az command line: %s", c[:3])
			}
		}
		if strings.Contains(r.stdout+r.stderr, key) {
			t.Error("the key was printed")
		}
		if n := len(r.called("deployment", "group", "create")); n != 1 {
			t.Errorf("%d deployments, want 1 (the key written once)", n)
		}
		return key
	}

	t.Run("first_deployment_generates", func(t *testing.T) {
		t.Parallel()
		r := runDeploy(t, allSecrets())
		generated(t, r)
		if len(r.called("rest")) != 0 {
			t.Errorf("asked for the secrets of a vault in a group that does not exist")
		}
	})

	t.Run("retry_of_failed_first_deployment_generates", func(t *testing.T) {
		t.Parallel()
		r := runDeploy(t, retry)
		first := generated(t, r)
		rest := r.called("rest", "--method", "get", "--url")
		if len(rest) != 1 || !strings.HasPrefix(rest[0][4], testVaultID+"/secrets?") {
			t.Errorf("az rest calls %q, want one listing the secrets of %s", rest, testVaultID)
		}
		for _, p := range []string{"adminToken", "mailjetPublicKey", "mailjetPrivateKey"} {
			if r.params[p] != "" {
				t.Errorf("%s passed, yet not given and held by the vault", p)
			}
		}
		if again := generated(t, runDeploy(t, retry)); again == first {
			t.Error("two generated keys are equal: not random")
		}
	})

	t.Run("vault_holds_key_never_set", func(t *testing.T) {
		t.Parallel()
		r := runDeploy(t, with(retry, "FAKE_AZ_SECRETS", "gdpr-hash-key admin-token mailjet-public mailjet-private"))
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
		}
		if v, ok := r.params["gdprHashKey"]; !ok || v != "" {
			t.Errorf("gdprHashKey passed (%d characters) over the one the vault holds", len(v))
		}
		if strings.Contains(r.stdout, "generated") {
			t.Errorf("says it generated a key: %s", r.stdout)
		}
	})

	t.Run("given_key_rotates", func(t *testing.T) {
		t.Parallel()
		given := strings.Repeat("ab", 32)
		r := runDeploy(t, with(retry, "FAKE_AZ_SECRETS", "gdpr-hash-key admin-token mailjet-public mailjet-private", "GDPR_HASH_KEY", given))
		if r.code != 0 || r.params["gdprHashKey"] != given {
			t.Errorf("exit %d; the key given in the environment was not passed", r.code)
		}
	})

	// A rotation: the older versions go to Key Vault (gdpr-hash-keys) through the parameters
	// file, and the app then reads GDPR_HASH_KEYS from there; later deployments keep reading
	// it while the vault holds it.
	t.Run("rotation_passes_the_older_versions", func(t *testing.T) {
		t.Parallel()
		older := "h1:" + strings.Repeat("cd", 32)
		r := runDeploy(t, with(retry, "FAKE_AZ_SECRETS", "gdpr-hash-key admin-token mailjet-public mailjet-private",
			"GDPR_HASH_KEY", strings.Repeat("ef", 32), "GDPR_HASH_KEY_ID", "h2", "GDPR_HASH_KEYS", older))
		if r.code != 0 || r.params["gdprHashKeys"] != older || r.params["hashKeysInVault"] != "true" || r.params["hashKeyId"] != "h2" {
			t.Errorf("exit %d; the older versions were not passed to Key Vault", r.code)
		}
		if strings.Contains(r.stdout+r.stderr, older) {
			t.Error("the older keys were printed")
		}
		r = runDeploy(t, with(retry, "FAKE_AZ_SECRETS", "gdpr-hash-key gdpr-hash-keys admin-token mailjet-public mailjet-private"))
		if r.code != 0 || r.params["gdprHashKeys"] != "" || r.params["hashKeysInVault"] != "true" {
			t.Errorf("exit %d; a later deployment must keep reading gdpr-hash-keys without writing it", r.code)
		}
	})

	refused := func(t *testing.T, r deployRun, code int, says string) {
		t.Helper()
		if r.code != code || !strings.Contains(r.stderr, says) {
			t.Errorf("exit %d, stderr %q; want %d saying %q", r.code, r.stderr, code, says)
		}
		if len(r.called("group", "create"))+len(r.called("deployment", "group", "create")) != 0 || r.params != nil {
			t.Errorf("Azure was changed: %q", r.calls)
		}
	}
	t.Run("malformed_older_versions", func(t *testing.T) {
		t.Parallel()
		r := runDeploy(t, with(retry, "FAKE_AZ_SECRETS", "gdpr-hash-key admin-token mailjet-public mailjet-private",
			"GDPR_HASH_KEYS", strings.Repeat("cd", 32)))
		refused(t, r, 2, "GDPR_HASH_KEYS must be <version>:<key>")
		if strings.Contains(r.stderr, strings.Repeat("cd", 32)) {
			t.Error("the refusal repeats the key")
		}
	})
	t.Run("vault_lacks_other_secret", func(t *testing.T) {
		t.Parallel()
		r := runDeploy(t, with(retry, "FAKE_AZ_SECRETS", "gdpr-hash-key mailjet-public mailjet-private"))
		refused(t, r, 2, "set POPSELL_ADMIN_TOKEN in the environment")
	})
	t.Run("group_without_vault_needs_every_secret", func(t *testing.T) {
		t.Parallel()
		r := runDeploy(t, with(mailOnly, "FAKE_AZ_GROUP_EXISTS", "true"))
		refused(t, r, 2, "set POPSELL_ADMIN_TOKEN MJ_APIKEY_PUBLIC MJ_APIKEY_PRIVATE in the environment")
	})
	// A failed question is not "the vault lacks it": a key generated then would replace the
	// one every stored digest was made with.
	t.Run("secrets_unknown_stops", func(t *testing.T) {
		t.Parallel()
		r := runDeploy(t, with(retry, "FAKE_AZ_REST_FAILS", "1"))
		refused(t, r, 1, "could not list the Key Vault's secrets")
		if strings.Contains(r.stdout, "generated") {
			t.Errorf("generated a key without knowing the vault lacks one")
		}
	})
	t.Run("two_vaults_stop", func(t *testing.T) {
		t.Parallel()
		r := runDeploy(t, with(retry, "FAKE_AZ_VAULTS", testVaultID+" "+testVaultID+"-other"))
		refused(t, r, 1, "more than one Key Vault")
	})
}
