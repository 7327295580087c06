//go:build cgo

package infra_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// One list of setting names, three places: the Env constants internal/config reads, the app
// settings Bicep deploys, and local.settings.sample.json. These sets say why a name may be in
// one place and not another; every other name must be in all three.
var (
	// hostSets: the Functions host sets it for the handler; nobody configures it.
	hostSets = []string{"FUNCTIONS_CUSTOMHANDLER_PORT"}
	// localOnly: settings of local mode and the emulators, which Azure mode refuses or ignores;
	// Bicep must not deploy them.
	localOnly = []string{"POPSELL_DATA_DIR", "POPSELL_TEST_CLOCK", "POPSELL_SEED_DEMO",
		"POPSELL_COSMOS_KEY", "POPSELL_BLOB_CONNECTION_STRING", "POPSELL_MAILJET_BASE_URL"}
	// azureHostOnly: read by the host in Azure only; `func start` needs none of them.
	azureHostOnly = []string{"APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"}
	// localHostOnly: what `func start` needs locally and Flex Consumption refuses or replaces
	// (the runtime is functionAppConfig's, storage is the identity-based connection).
	localHostOnly = []string{"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"}
	// hostConnections: the host's own identity-based connections (issue 13, fix 1): they
	// never read AZURE_CLIENT_ID.
	hostConnections = []string{
		"ServiceBusConnection__fullyQualifiedNamespace", "ServiceBusConnection__credential", "ServiceBusConnection__clientId",
		"AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId",
	}
)

// configSettings returns the values of the Env* string constants of internal/config.
func configSettings(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "internal", "config")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Env") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						out = append(out, v)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Env constants found in internal/config")
	}
	slices.Sort(out)
	return out
}

func sampleSettings(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "local.settings.sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct{ Values map[string]string }
	if err := json.Unmarshal(raw, &sample); err != nil {
		t.Fatal(err)
	}
	return sample.Values
}

// bicepSettings returns the evaluated app settings of the function app.
func bicepSettings(t *testing.T, p *project) map[string]any {
	t.Helper()
	for _, r := range p.resources("Microsoft.Web/sites/config") {
		if r.body["name"] == "appsettings" {
			props, _ := r.body["properties"].(map[string]any)
			return props
		}
	}
	t.Fatal("no Microsoft.Web/sites/config 'appsettings' in infra/")
	return nil
}

// TestAppSettingsAgree: Bicep, local.settings.sample.json and internal/config name the same
// settings.
func TestAppSettingsAgree(t *testing.T) {
	env := configSettings(t)
	sample := sampleSettings(t)
	p := loadProject(t, ".")
	bicep := bicepSettings(t, p)

	for _, list := range [][]string{hostSets, localOnly} {
		for _, name := range list {
			if !slices.Contains(env, name) {
				t.Errorf("%s is listed here as a setting of internal/config, which no longer reads it: drop it from this test", name)
			}
		}
	}
	for _, name := range env {
		_, inBicep := bicep[name]
		switch {
		case slices.Contains(hostSets, name) || slices.Contains(localOnly, name):
			if inBicep {
				t.Errorf("Bicep sets %s, a local-only setting that Azure mode refuses or ignores", name)
			}
		case !inBicep:
			t.Errorf("internal/config reads %s, which infra/modules/functionapp.bicep does not set", name)
		}
	}
	for _, name := range keysOf(bicep) {
		if _, ok := sample[name]; !ok && !slices.Contains(azureHostOnly, name) {
			t.Errorf("Bicep sets %s, which local.settings.sample.json does not list", name)
		}
	}
	for _, name := range keysOf(sample) {
		_, inBicep := bicep[name]
		if !inBicep && !slices.Contains(env, name) && !slices.Contains(localHostOnly, name) {
			t.Errorf("local.settings.sample.json lists %s, which neither internal/config nor Bicep uses", name)
		}
	}

	// The host's identity-based connections, in both places, with the one identity.
	clientID := show(bicep["AZURE_CLIENT_ID"])
	for _, name := range hostConnections {
		if _, ok := sample[name]; !ok {
			t.Errorf("local.settings.sample.json lacks %s", name)
		}
		v, ok := bicep[name]
		switch {
		case !ok:
			t.Errorf("Bicep lacks %s", name)
		case strings.HasSuffix(name, "__credential"):
			if v != "managedidentity" || sample[name] != "managedidentity" {
				t.Errorf("%s = %s (Bicep), %q (sample); want managedidentity", name, show(v), sample[name])
			}
		case strings.HasSuffix(name, "__clientId"):
			if show(v) != clientID {
				t.Errorf("%s = %s, but AZURE_CLIENT_ID = %s: one identity for every connection", name, show(v), clientID)
			}
		}
	}
	if _, ok := bicep["AZURE_CLIENT_ID"].(unknown); !ok {
		t.Errorf("AZURE_CLIENT_ID = %s, want the identity's client id", clientID)
	}
	for _, name := range secretSettings {
		if s, _ := textOf(bicep[name]); !strings.HasPrefix(s, "@Microsoft.KeyVault(") {
			t.Errorf("%s = %s, want a Key Vault reference", name, show(bicep[name]))
		}
	}
}

// TestFunctionBindingsUseTheConnection: the Service Bus triggers read the connection Bicep
// configures, and the queues Bicep creates.
func TestFunctionBindingsUseTheConnection(t *testing.T) {
	p := loadProject(t, ".")
	bicep := bicepSettings(t, p)
	queues := map[string]bool{}
	for _, q := range p.resources("Microsoft.ServiceBus/namespaces/queues") {
		if name, ok := q.body["name"].(string); ok {
			queues[name] = true
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "functions", "*", "function.json"))
	if len(files) == 0 {
		t.Fatal("no functions/*/function.json")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fn struct {
			Bindings []struct{ Type, QueueName, Connection string }
		}
		if err := json.Unmarshal(raw, &fn); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, b := range fn.Bindings {
			if b.Type != "serviceBusTrigger" {
				continue
			}
			if _, ok := bicep[b.Connection+"__fullyQualifiedNamespace"]; !ok {
				t.Errorf("%s: connection %q has no %s__fullyQualifiedNamespace app setting", f, b.Connection, b.Connection)
			}
			if !queues[b.QueueName] {
				t.Errorf("%s: queue %q is not created by infra/", f, b.QueueName)
			}
		}
	}
}
