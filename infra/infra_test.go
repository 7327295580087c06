//go:build cgo

package infra_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"popsell-gdpr/internal/cosmosstore"
	"popsell-gdpr/internal/gdpr"
)

// TestTemplatesParse: every template under infra/ parses without an ERROR or MISSING node.
func TestTemplatesParse(t *testing.T) {
	p := loadProject(t, ".")
	if _, ok := p.files["main.bicep"]; !ok {
		t.Fatal("infra/main.bicep missing")
	}
	for _, rel := range p.order {
		t.Run(rel, func(t *testing.T) {
			for _, f := range checkSyntax(p.files[rel]) {
				t.Error(f)
			}
		})
	}
}

// TestTemplatesPassEveryRule: EU regions only (R-OPS-2), local auth off, no shared keys,
// TLS 1.2, no public blobs, nothing Flex refuses, secrets as Key Vault references, Key Vault
// with RBAC, role ids only as named constants.
func TestTemplatesPassEveryRule(t *testing.T) {
	p := loadProject(t, ".")
	for _, f := range lint(p) {
		t.Error(f)
	}
}

// TestBrokenCopyFailsEachRule: testdata/broken breaks each rule once; each must be reported,
// in the file that breaks it, for its own reason.
func TestBrokenCopyFailsEachRule(t *testing.T) {
	p := loadProject(t, "testdata/broken")
	findings := lint(p)
	for _, f := range findings {
		t.Log(f)
	}
	cases := []struct {
		name, rule, file, says string
	}{
		{"syntax_error", ruleSyntax, "syntax.bicep", ""},
		{"non_EU_allowed_region", ruleEU, "main.bicep", `allows "eastus"`},
		{"non_EU_default_region", ruleEU, "main.bicep", `defaults to "eastus"`},
		{"location_param_without_allowed", ruleEU, "main.bicep", "restrict it with @allowed"},
		{"non_EU_cosmos_region", ruleEU, "main.bicep", `"uksouth"`},
		{"cosmos_local_auth_on", ruleLocalAuth, "main.bicep", "cosmos: properties.disableLocalAuth must be true, is false"},
		{"service_bus_local_auth_missing", ruleLocalAuth, "main.bicep", "bus: properties.disableLocalAuth must be true, is not set"},
		{"app_insights_local_auth_missing", ruleLocalAuth, "main.bicep", "insights: properties.DisableLocalAuth must be true"},
		{"storage_shared_key_on", ruleSharedKey, "main.bicep", "allowSharedKeyAccess must be false, is true"},
		{"storage_TLS_1_0", ruleTLS, "main.bicep", `minimumTlsVersion must be TLS1_2 or TLS1_3, is "TLS1_0"`},
		{"service_bus_TLS_1_0", ruleTLS, "main.bicep", `minimumTlsVersion must be 1.2, is "1.0"`},
		{"public_blob_access_on", rulePublicBlob, "main.bicep", "allowBlobPublicAccess must be false, is true"},
		{"public_container", rulePublicBlob, "main.bicep", `publicAccess is "Blob"`},
		{"flex_worker_runtime", ruleFlex, "main.bicep", "FUNCTIONS_WORKER_RUNTIME is refused"},
		{"flex_run_from_package", ruleFlex, "main.bicep", "WEBSITE_RUN_FROM_PACKAGE is refused"},
		{"secret_in_plain", ruleSecrets, "main.bicep", "GDPR_HASH_KEY must be a Key Vault reference"},
		{"storage_key_in_setting", ruleSecrets, "main.bicep", "AzureWebJobsStorage carries a key"},
		{"key_vault_access_policies", ruleKeyVault, "main.bicep", "enableRbacAuthorization must be true"},
		{"role_id_literal", ruleRoleIDs, "main.bicep", "GUID literal"},
	}
	for _, c := range cases {
		t.Run(c.rule+"/"+c.name, func(t *testing.T) {
			for _, f := range findings {
				if f.rule == c.rule && strings.HasPrefix(f.where, c.file+":") && strings.Contains(f.msg, c.says) {
					return
				}
			}
			t.Errorf("no [%s] finding in %s saying %q", c.rule, c.file, c.says)
		})
	}
	// And the real templates break none of these rules (TestTemplatesPassEveryRule), so each
	// finding above is caused by what the copy breaks.
}

// TestResourceBodiesMatchSchemas checks every resource body against the Azure resource
// schemas, when they are there.
func TestResourceBodiesMatchSchemas(t *testing.T) {
	dir, name := bicepTypesDir()
	s, err := loadSchemas(t, dir)
	if err != nil || s.files == 0 {
		t.Skipf("resource schemas not checked: %s has no types.json (%v); CI lays ../shared beside the repository", name, err)
	}
	t.Logf("%d schema files from %s", s.files, name)
	t.Run("infra", func(t *testing.T) {
		p := loadProject(t, ".")
		unchecked := map[string]bool{}
		for _, r := range p.resources("") {
			if r.decl.existing {
				continue
			}
			findings, ok := s.checkSchema(r, func(n string) { t.Log("note: " + n) })
			if !ok {
				unchecked[r.decl.typ+"@"+r.decl.apiVersion] = true
				continue
			}
			for _, f := range findings {
				t.Error(f)
			}
		}
		for _, k := range keysOf(unchecked) {
			t.Logf("not checked: no schema for %s in %s", k, name)
		}
	})
	t.Run("broken_copy_fails", func(t *testing.T) {
		p := loadProject(t, "testdata/broken")
		var all []finding
		for _, r := range p.resources("") {
			findings, _ := s.checkSchema(r, func(string) {})
			all = append(all, findings...)
		}
		for _, want := range []string{"zoneRedundantt: is not a property", `"Sessionn" is none of`, "maxDeliveryCountt: is not a property"} {
			if !slices.ContainsFunc(all, func(f finding) bool { return strings.Contains(f.msg, want) }) {
				t.Errorf("no schema finding saying %q; got %v", want, all)
			}
		}
	})
}

// TestCosmosContainersMatchStore: the containers Bicep creates are the ones the store uses
// and checks at start, field for field: name, partition key, indexing policy (the composite
// index of the due sweep included) and time-to-live (internal/cosmosstore/containers.go).
func TestCosmosContainersMatchStore(t *testing.T) {
	p := loadProject(t, ".")
	bicep := map[string]any{}
	for _, r := range p.resources("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers") {
		res := get(r.body, "properties", "resource")
		name, _ := get(res, "id").(string)
		if name == "" || r.body["name"] != name {
			t.Errorf("%s: container name %s and resource id %s differ", r.where(), show(r.body["name"]), show(get(res, "id")))
			continue
		}
		bicep[name] = normalizeContainer(t, res)
	}
	var names []string
	for _, spec := range cosmosstore.Containers {
		names = append(names, spec.Name)
		raw, err := json.Marshal(spec.Properties())
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		want = normalizeContainer(t, want)
		got, ok := bicep[spec.Name]
		if !ok {
			t.Errorf("container %s is missing from infra/modules/cosmos.bicep", spec.Name)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("container %s differs from cosmosstore:\n bicep: %s\n store: %s", spec.Name, g, w)
		}
	}
	for name := range bicep {
		if !slices.Contains(names, name) {
			t.Errorf("Bicep creates container %s, which cosmosstore does not know", name)
		}
	}
	for _, spec := range cosmosstore.Containers {
		if spec.PartitionKey != "/brandId" {
			t.Errorf("container %s is not partitioned by /brandId (R-TEN-1)", spec.Name)
		}
	}
}

// normalizeContainer makes a container body comparable: JSON numbers, no nulls, and the
// indexing mode in one case (the REST API and Bicep write "consistent", azcosmos
// "Consistent").
func normalizeContainer(t *testing.T, v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	var clean func(any) any
	clean = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if e == nil {
					delete(v, k)
					continue
				}
				v[k] = clean(e)
			}
			if s, ok := v["indexingMode"].(string); ok {
				v["indexingMode"] = strings.ToLower(s)
			}
		case []any:
			for i := range v {
				v[i] = clean(v[i])
			}
		}
		return v
	}
	return clean(out)
}

// TestCosmosAccount: West Europe writes, North Europe takes over automatically (R-OPS-2);
// Session consistency; continuous backup (R-OPS-3, with the monthly part in the README).
func TestCosmosAccount(t *testing.T) {
	p := loadProject(t, ".")
	accounts := p.resources("Microsoft.DocumentDB/databaseAccounts")
	if len(accounts) != 1 {
		t.Fatalf("want one Cosmos DB account, have %d", len(accounts))
	}
	a := get(accounts[0].body, "properties")
	locs, _ := get(a, "locations").([]any)
	want := []map[string]any{{"locationName": "westeurope", "failoverPriority": int64(0)}, {"locationName": "northeurope", "failoverPriority": int64(1)}}
	if len(locs) != len(want) {
		t.Fatalf("locations: %v", locs)
	}
	for i, w := range want {
		for k, v := range w {
			if get(locs[i], k) != v {
				t.Errorf("locations[%d].%s = %s, want %v", i, k, show(get(locs[i], k)), v)
			}
		}
	}
	for path, want := range map[string]any{
		"enableAutomaticFailover":                    true,
		"enableMultipleWriteLocations":               false,
		"consistencyPolicy.defaultConsistencyLevel":  "Session",
		"backupPolicy.type":                          "Continuous",
		"backupPolicy.continuousModeProperties.tier": "Continuous30Days",
	} {
		if got := get(a, strings.Split(path, ".")...); got != want {
			t.Errorf("properties.%s = %s, want %v", path, show(got), want)
		}
	}
}

// TestServiceBusQueues: the queues the code names, with dead-lettering, duplicate detection
// (it cannot be turned on later) and a delivery count that outlasts throttling (issue 13).
func TestServiceBusQueues(t *testing.T) {
	p := loadProject(t, ".")
	ns := p.resources("Microsoft.ServiceBus/namespaces")
	if len(ns) != 1 || get(ns[0].body, "sku", "name") != "Standard" {
		t.Fatalf("want one Standard namespace, have %d", len(ns))
	}
	got := map[string]map[string]any{}
	for _, q := range p.resources("Microsoft.ServiceBus/namespaces/queues") {
		name, _ := q.body["name"].(string)
		props, _ := q.body["properties"].(map[string]any)
		got[name] = props
	}
	for _, name := range []string{gdpr.QueueErasure, gdpr.QueueMail, gdpr.QueueRequests} {
		props, ok := got[name]
		if !ok {
			t.Errorf("queue %s missing", name)
			continue
		}
		if n, _ := props["maxDeliveryCount"].(int64); n < 20 {
			t.Errorf("%s: maxDeliveryCount %s, want at least 20", name, show(props["maxDeliveryCount"]))
		}
		for k, want := range map[string]any{"deadLetteringOnMessageExpiration": true, "requiresDuplicateDetection": true, "requiresSession": false} {
			if props[k] != want {
				t.Errorf("%s: %s = %s, want %v", name, k, show(props[k]), want)
			}
		}
		if w, _ := props["duplicateDetectionHistoryTimeWindow"].(string); !strings.HasPrefix(w, "P") {
			t.Errorf("%s: duplicateDetectionHistoryTimeWindow %s, want an ISO 8601 duration", name, show(props["duplicateDetectionHistoryTimeWindow"]))
		}
	}
	if len(got) != 3 {
		t.Errorf("queues %v, want exactly %s, %s and %s", keysOf(got), gdpr.QueueErasure, gdpr.QueueMail, gdpr.QueueRequests)
	}
}

// roleDefinitionIDs are the built-in roles as Azure publishes them (AZURE-INFRA §7, from the
// AVM modules' builtInRoleNames). roles.bicep must hold exactly these values.
var roleDefinitionIDs = map[string]string{
	"storageBlobDataOwner":        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
	"storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
	"serviceBusDataOwner":         "090c5cfd-751d-490a-894a-3ce6f1109419",
	"serviceBusDataSender":        "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
	"keyVaultSecretsUser":         "4633458b-17de-408a-b874-0445c86b69e6",
	"monitoringMetricsPublisher":  "3913510d-42f4-4e42-8a64-420c390055eb",
	"storageBlobDataReader":       "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
}

const cosmosBuiltInDataContributor = "00000000-0000-0000-0000-000000000002"

// TestRoleAssignments: the role ids are the published ones; every assignment names one of
// them, for the one identity, as a service principal; the identity holds each role the
// deployment needs, on the resource that needs it, and nothing broader.
func TestRoleAssignments(t *testing.T) {
	p := loadProject(t, ".")
	roles := p.files["modules/roles.bicep"]
	if roles == nil {
		t.Fatal("infra/modules/roles.bicep missing")
	}
	in := &instance{p: p, file: roles, vars: map[string]any{}, busy: map[string]bool{}}
	ids, _ := in.lookup(nil, "roleIds").(map[string]any)
	if len(ids) != len(roleDefinitionIDs) {
		t.Errorf("roleIds has %v, want exactly %v", keysOf(ids), keysOf(roleDefinitionIDs))
	}
	for name, want := range roleDefinitionIDs {
		if ids[name] != want {
			t.Errorf("roleIds.%s = %s, want %s", name, show(ids[name]), want)
		}
	}
	if got := in.lookup(nil, "cosmosDataContributorRoleId"); got != cosmosBuiltInDataContributor {
		t.Errorf("cosmosDataContributorRoleId = %s, want %s", show(got), cosmosBuiltInDataContributor)
	}

	// Which role on which resource type: the assignment's scope symbol names a resource of
	// that type in the same file.
	want := map[string]string{
		"storageBlobDataOwner":        "Microsoft.Storage/storageAccounts",
		"storageTableDataContributor": "Microsoft.Storage/storageAccounts",
		"serviceBusDataOwner":         "Microsoft.ServiceBus/namespaces/queues",
		"serviceBusDataSender":        "Microsoft.ServiceBus/namespaces/queues",
		"keyVaultSecretsUser":         "Microsoft.KeyVault/vaults",
		"monitoringMetricsPublisher":  "Microsoft.Insights/components",
		"storageBlobDataReader":       "Microsoft.Storage/storageAccounts/blobServices/containers",
	}
	principals := map[string]bool{}
	have := map[string]string{}
	for _, r := range p.resources("Microsoft.Authorization/roleAssignments") {
		f := r.in.file
		text := f.text(r.decl.value)
		role := ""
		for name := range roleDefinitionIDs {
			if strings.Contains(text, "roleIds."+name) {
				role = name
			}
		}
		if role == "" {
			t.Errorf("%s: roleDefinitionId names no roleIds constant", r.where())
			continue
		}
		scope := strings.TrimSpace(strings.SplitN(f.text(findProperty(f, r.decl.value, "scope")), "[", 2)[0])
		for _, d := range f.resources {
			if d.symbol == scope {
				have[role] = d.typ
			}
		}
		if role == "storageBlobDataReader" {
			// The warehouse team's reader (R-DWH-1): the identity a parameter names, on the
			// warehouse container alone, never the app's.
			if scope != "warehouse" {
				t.Errorf("%s: the warehouse reader is scoped to %s, want the warehouse container", r.where(), scope)
			}
			if !strings.Contains(text, "principalId: warehouseReaderPrincipalId") {
				t.Errorf("%s: the warehouse reader is not the warehouseReaderPrincipalId parameter", r.where())
			}
			continue
		}
		if get(r.body, "properties", "principalType") != "ServicePrincipal" {
			t.Errorf("%s: principalType %s, want ServicePrincipal", r.where(), show(get(r.body, "properties", "principalType")))
		}
		principals[show(get(r.body, "properties", "principalId"))] = true
	}
	for role, typ := range want {
		if have[role] != typ {
			t.Errorf("role %s assigned on %q, want on a %s", role, have[role], typ)
		}
	}
	sql := p.resources("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
	if len(sql) != 1 {
		t.Fatalf("want one Cosmos DB data-plane role assignment, have %d", len(sql))
	}
	if def, _ := textOf(get(sql[0].body, "properties", "roleDefinitionId")); !strings.HasSuffix(def, "/sqlRoleDefinitions/"+cosmosBuiltInDataContributor) {
		t.Errorf("Cosmos DB role %q, want the built-in data contributor", def)
	}
	if scope := get(sql[0].body, "properties", "scope"); scope != (unknown{"account.id"}) {
		t.Errorf("Cosmos DB role scope %s, want the account (it holds only this database; the SDK reads the account's metadata first)", show(scope))
	}
	principals[show(get(sql[0].body, "properties", "principalId"))] = true
	if len(principals) != 1 {
		t.Errorf("role assignments go to %v, want the one app identity", keysOf(principals))
	}
}

// findProperty returns the value node of a top-level property of a declaration's body.
func findProperty(f *bicepFile, value *node, name string) *node {
	var found *node
	walk(value, func(n *node) {
		if found == nil && n.Kind() == "object_property" {
			if k := kids(n); len(k) >= 2 && f.text(k[0]) == name {
				found = k[len(k)-1]
			}
		}
	})
	if found == nil {
		return value
	}
	return found
}

// TestOneIdentity: one user-assigned identity, and the app runs as it alone.
func TestOneIdentity(t *testing.T) {
	p := loadProject(t, ".")
	if ids := p.resources("Microsoft.ManagedIdentity/userAssignedIdentities"); len(ids) != 1 {
		t.Errorf("want one user-assigned identity, have %d", len(ids))
	}
	sites := p.resources("Microsoft.Web/sites")
	if len(sites) != 1 {
		t.Fatalf("want one function app, have %d", len(sites))
	}
	s := sites[0].body
	if get(s, "identity", "type") != "UserAssigned" {
		t.Errorf("identity.type %s, want UserAssigned (no system identity)", show(get(s, "identity", "type")))
	}
	if get(s, "kind") != "functionapp,linux" || get(s, "properties", "functionAppConfig", "runtime", "name") != "custom" {
		t.Errorf("want a Linux function app with runtime custom")
	}
	if get(s, "properties", "functionAppConfig", "deployment", "storage", "authentication", "type") != "UserAssignedIdentity" {
		t.Errorf("the deployment container must be read with the user-assigned identity")
	}
	if get(s, "properties", "keyVaultReferenceIdentity") == nil {
		t.Errorf("keyVaultReferenceIdentity must name the user-assigned identity")
	}
	plans := p.resources("Microsoft.Web/serverfarms")
	if len(plans) != 1 || get(plans[0].body, "sku", "tier") != "FlexConsumption" || get(plans[0].body, "sku", "name") != "FC1" {
		t.Errorf("want one Flex Consumption (FC1) plan")
	}
}

// TestPolicyAllowsTheDeployedRegions: for each region pair tools/deploy.sh accepts, main.bicep
// given the parameters deploy.sh passes puts every located resource in the primary region,
// Cosmos DB in both, and makes the "Allowed locations" policy allow exactly these two: a
// redeploy in the same pair is never denied by the deployment's own policy (R-OPS-2).
func TestPolicyAllowsTheDeployedRegions(t *testing.T) {
	base := loadProject(t, ".")
	for _, c := range regionPairs {
		t.Run(c.name, func(t *testing.T) {
			r := runDeploy(t, c.env, c.args...)
			if r.code != 0 || r.params == nil {
				t.Fatalf("deploy.sh: exit %d, no parameters\nstderr: %s", r.code, r.stderr)
			}
			p := &project{dir: base.dir, files: base.files, order: base.order}
			p.instantiate(base.files["main.bicep"], map[string]any{
				"location":          r.params["location"],
				"secondaryLocation": r.params["secondaryLocation"],
			}, "main.bicep", 0)

			policies := p.resources("Microsoft.Authorization/policyAssignments")
			if len(policies) != 1 {
				t.Fatalf("want one policy assignment, have %d", len(policies))
			}
			allowed := get(policies[0].body, "properties", "parameters", "listOfAllowedLocations", "value")
			if want := []any{c.primary, c.secondary}; !reflect.DeepEqual(allowed, want) {
				t.Errorf("policy allows %s, want %v", show(allowed), want)
			}
			accounts := p.resources("Microsoft.DocumentDB/databaseAccounts")
			if len(accounts) != 1 {
				t.Fatalf("want one Cosmos DB account, have %d", len(accounts))
			}
			locs, _ := get(accounts[0].body, "properties", "locations").([]any)
			if len(locs) != 2 || get(locs[0], "locationName") != c.primary || get(locs[1], "locationName") != c.secondary {
				t.Errorf("Cosmos DB locations %s, want %s then %s", show(locs), c.primary, c.secondary)
			}
			located := 0
			for _, res := range p.resources("") {
				if loc, ok := res.body["location"]; ok {
					located++
					if loc != c.primary {
						t.Errorf("%s: location %s, want %s", res.where(), show(loc), c.primary)
					}
				}
			}
			if located < 6 {
				t.Errorf("only %d resources with a location: the templates were not instantiated with the pair", located)
			}
		})
	}
}

// TestLedgerContainerIsImmutable: the erasure ledger's container, the one the handler writes
// it to (functions.LedgerContainer, "ledger"), has a time-based retention policy of years,
// and no public access (R-ERASE-9).
func TestLedgerContainerIsImmutable(t *testing.T) {
	p := loadProject(t, ".")
	var found bool
	for _, c := range p.resources("Microsoft.Storage/storageAccounts/blobServices/containers") {
		if c.body["name"] == "ledger" {
			found = true
			if v := get(c.body, "properties", "publicAccess"); v != "None" {
				t.Errorf("ledger container publicAccess %s, want None", show(v))
			}
		}
	}
	if !found {
		t.Fatal("no ledger container in the templates")
	}
	policies := p.resources("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies")
	if len(policies) != 1 {
		t.Fatalf("want one immutability policy (the ledger's), have %d", len(policies))
	}
	body := policies[0].body
	if body["name"] != "default" {
		t.Errorf("an immutability policy is named default, not %s", show(body["name"]))
	}
	days, _ := get(body, "properties", "immutabilityPeriodSinceCreationInDays").(int64)
	if days < 365 {
		t.Errorf("ledger retention %s days, want at least a year", show(get(body, "properties", "immutabilityPeriodSinceCreationInDays")))
	}
	if v := get(body, "properties", "allowProtectedAppendWrites"); v != false {
		t.Errorf("allowProtectedAppendWrites %s, want false: ledger blobs are written whole, once", show(v))
	}
}

// TestExportsLifecycleRule_R_ACCESS_3: exports have a container, and a lifecycle rule deletes
// what is under its requests/ prefix (where the handler writes them) two days after creation,
// behind the handler's own deletion at expiry.
func TestExportsLifecycleRule_R_ACCESS_3(t *testing.T) {
	p := loadProject(t, ".")
	policies := p.resources("Microsoft.Storage/storageAccounts/managementPolicies")
	if len(policies) != 1 {
		t.Fatalf("want one lifecycle policy, have %d", len(policies))
	}
	body := policies[0].body
	if body["name"] != "default" {
		t.Errorf("a storage account's management policy is named default, not %s", show(body["name"]))
	}
	rules, _ := get(body, "properties", "policy", "rules").([]any)
	if len(rules) != 1 {
		t.Fatalf("want one rule, have %s", show(get(body, "properties", "policy", "rules")))
	}
	rule, _ := rules[0].(map[string]any)
	if v := get(rule, "enabled"); v != true {
		t.Errorf("rule enabled %s", show(v))
	}
	if v, _ := get(rule, "definition", "actions", "baseBlob", "delete", "daysAfterCreationGreaterThan").(int64); v != 2 {
		t.Errorf("exports deleted after %s days, want 2", show(get(rule, "definition", "actions", "baseBlob", "delete", "daysAfterCreationGreaterThan")))
	}
	prefixes := show(get(rule, "definition", "filters", "prefixMatch"))
	if !strings.Contains(prefixes, "/requests/") {
		t.Errorf("the rule's prefix %s is not the exports' requests/ folder", prefixes)
	}
}
