//go:build cgo

package infra_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The rules every template must pass. Each returns findings naming its rule, so the broken
// copy in testdata can be shown to fail each rule for its own reason.

type finding struct {
	rule  string
	where string // file:line
	msg   string
}

func (f finding) String() string { return fmt.Sprintf("%s: [%s] %s", f.where, f.rule, f.msg) }

const (
	ruleSyntax     = "syntax"
	ruleEU         = "eu-location"
	ruleLocalAuth  = "local-auth"
	ruleSharedKey  = "shared-key"
	ruleTLS        = "tls"
	rulePublicBlob = "public-blob"
	ruleFlex       = "flex-setting"
	ruleSecrets    = "secret-reference"
	ruleKeyVault   = "key-vault-rbac"
	ruleRoleIDs    = "role-id-constants"
	ruleModule     = "module-path"
)

// euRegions are the regions R-OPS-2 allows: EU member states only (uksouth, norwayeast and
// switzerlandnorth are in Europe but not in the EU).
var euRegions = []string{"westeurope", "northeurope", "swedencentral", "germanywestcentral",
	"francecentral", "italynorth", "polandcentral", "spaincentral"}

func isEU(region string) bool {
	return slices.Contains(euRegions, strings.ToLower(strings.ReplaceAll(region, " ", "")))
}

// flexRefuses are app settings the Flex Consumption plan refuses or ignores: its runtime and
// deployment come from functionAppConfig instead (AZURE-INFRA §5, learn
// functions-app-settings#flex-consumption-plan-deprecations).
var flexRefuses = []string{
	"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
	"WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
	"SCM_DO_BUILD_DURING_DEPLOYMENT", "WEBSITE_TIME_ZONE", "TZ", "WEBSITE_NODE_DEFAULT_VERSION",
	"ENABLE_ORYX_BUILD", "WEBSITE_SKIP_CONTENTSHARE_VALIDATION", "WEBSITE_CONTENTOVERVNET",
	"FUNCTIONS_WORKER_PROCESS_COUNT", "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
}

// secretSettings must be Key Vault references: their values never pass through templates.
var secretSettings = []string{"GDPR_HASH_KEY", "POPSELL_ADMIN_TOKEN", "MJ_APIKEY_PUBLIC", "MJ_APIKEY_PRIVATE"}

// lint runs every rule on a project.
func lint(p *project) []finding {
	var out []finding
	for _, rel := range p.order {
		f := p.files[rel]
		out = append(out, checkSyntax(f)...)
		out = append(out, checkLocationLiterals(f)...)
		out = append(out, checkGUIDLiterals(f)...)
		for _, m := range f.modules {
			if p.files[m.target] == nil {
				out = append(out, finding{ruleModule, fmt.Sprintf("%s:%d", f.path, f.line(m.node)), "module file " + m.target + " not found"})
			}
		}
	}
	for _, r := range p.resources("") {
		out = append(out, checkResource(r)...)
	}
	return out
}

// checkSyntax: tree-sitter keeps parsing past an error and marks it with ERROR or MISSING
// nodes; any of them fails the file.
func checkSyntax(f *bicepFile) []finding {
	var out []finding
	if !f.root.HasError() {
		return nil
	}
	walk(f.root, func(n *node) {
		switch {
		case n.IsMissing():
			out = append(out, finding{ruleSyntax, fmt.Sprintf("%s:%d", f.path, f.line(n)), "missing " + n.Kind()})
		case n.IsError():
			text := f.text(n)
			if len(text) > 40 {
				text = text[:40] + "…"
			}
			out = append(out, finding{ruleSyntax, fmt.Sprintf("%s:%d", f.path, f.line(n)), fmt.Sprintf("cannot parse %q", text)})
		}
	})
	if len(out) == 0 {
		out = append(out, finding{ruleSyntax, f.path + ":1", "syntax error"})
	}
	return out
}

var locationKey = regexp.MustCompile(`(?i)location`)

// checkLocationLiterals looks at the text, whatever the values end up being: every parameter
// named like a location must be restricted to EU regions with @allowed, and every region
// written in a location-like property, a default or an @allowed list must be in the EU.
func checkLocationLiterals(f *bicepFile) []finding {
	var out []finding
	bad := func(n *node, format string, args ...any) {
		out = append(out, finding{ruleEU, fmt.Sprintf("%s:%d", f.path, f.line(n)), fmt.Sprintf(format, args...)})
	}
	literals := func(n *node, fn func(*node, string)) {
		walk(n, func(c *node) {
			if c.Kind() != "string" {
				return
			}
			k := kids(c)
			if len(k) == 1 && k[0].Kind() == "string_content" {
				fn(c, f.text(k[0]))
			}
		})
	}
	for name, p := range f.params {
		if !locationKey.MatchString(name) {
			continue
		}
		allowed, ok := p.decorators["allowed"]
		if !ok {
			bad(p.node, "parameter %s takes any region: restrict it with @allowed to EU regions", name)
		} else {
			n := 0
			for _, a := range decoratorArgs(allowed) {
				literals(a, func(s *node, v string) {
					n++
					if !isEU(v) {
						bad(s, "parameter %s allows %q, not an EU region", name, v)
					}
				})
			}
			if n == 0 {
				bad(p.node, "parameter %s: @allowed lists no region", name)
			}
		}
		if p.def != nil {
			literals(p.def, func(s *node, v string) {
				if !isEU(v) {
					bad(s, "parameter %s defaults to %q, not an EU region", name, v)
				}
			})
		}
	}
	walk(f.root, func(n *node) {
		if n.Kind() != "object_property" {
			return
		}
		k := kids(n)
		if len(k) < 2 || !locationKey.MatchString(strings.Trim(f.text(k[0]), "'")) {
			return
		}
		literals(k[len(k)-1], func(s *node, v string) {
			if !isEU(v) {
				bad(s, "%s is %q, not an EU region", f.text(k[0]), v)
			}
		})
	})
	return out
}

var guidLiteral = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkGUIDLiterals: role definition ids are named constants in modules/roles.bicep, tested
// there; a bare GUID elsewhere is an untested copy.
func checkGUIDLiterals(f *bicepFile) []finding {
	if strings.HasSuffix(f.path, "roles.bicep") {
		return nil
	}
	var out []finding
	walk(f.root, func(n *node) {
		if n.Kind() == "string_content" && guidLiteral.MatchString(f.text(n)) {
			out = append(out, finding{ruleRoleIDs, fmt.Sprintf("%s:%d", f.path, f.line(n)),
				"GUID literal " + f.text(n) + ": name role ids in modules/roles.bicep"})
		}
	})
	return out
}

// checkResource applies the rules of a resource's type to its evaluated body.
func checkResource(r *resourceInstance) []finding {
	var out []finding
	bad := func(rule, format string, args ...any) {
		out = append(out, finding{rule, r.where(), r.decl.symbol + ": " + fmt.Sprintf(format, args...)})
	}
	if r.decl.existing {
		return nil
	}
	if r.body == nil {
		bad(ruleSyntax, "body cannot be read")
		return out
	}
	if loc, ok := r.body["location"].(string); ok && !isEU(loc) {
		bad(ruleEU, "location %q is not an EU region", loc)
	}
	props, _ := r.body["properties"].(map[string]any)
	mustBe := func(rule string, want any, path ...string) {
		got := get(props, path...)
		if got != want {
			bad(rule, "properties.%s must be %v, is %s", strings.Join(path, "."), want, show(got))
		}
	}
	mustBeOneOf := func(rule string, want []string, path ...string) {
		got, _ := get(props, path...).(string)
		if !slices.Contains(want, got) {
			bad(rule, "properties.%s must be %s, is %s", strings.Join(path, "."), strings.Join(want, " or "), show(get(props, path...)))
		}
	}
	switch strings.ToLower(r.decl.typ) {
	case "microsoft.documentdb/databaseaccounts":
		mustBe(ruleLocalAuth, true, "disableLocalAuth")
		mustBeOneOf(ruleTLS, []string{"Tls12"}, "minimalTlsVersion")
		if locs, ok := get(props, "locations").([]any); ok {
			for _, l := range locs {
				if name, ok := get(l, "locationName").(string); ok && !isEU(name) {
					bad(ruleEU, "Cosmos DB region %q is not an EU region", name)
				}
			}
		}
	case "microsoft.servicebus/namespaces":
		mustBe(ruleLocalAuth, true, "disableLocalAuth")
		mustBeOneOf(ruleTLS, []string{"1.2"}, "minimumTlsVersion")
	case "microsoft.insights/components":
		mustBe(ruleLocalAuth, true, "DisableLocalAuth")
	case "microsoft.operationalinsights/workspaces":
		mustBe(ruleLocalAuth, true, "features", "disableLocalAuth")
	case "microsoft.storage/storageaccounts":
		mustBe(ruleSharedKey, false, "allowSharedKeyAccess")
		mustBeOneOf(ruleTLS, []string{"TLS1_2", "TLS1_3"}, "minimumTlsVersion")
		mustBe(rulePublicBlob, false, "allowBlobPublicAccess")
	case "microsoft.storage/storageaccounts/blobservices/containers":
		if v := get(props, "publicAccess"); v != nil && v != "None" {
			bad(rulePublicBlob, "container publicAccess is %s", show(v))
		}
	case "microsoft.keyvault/vaults":
		mustBe(ruleKeyVault, true, "enableRbacAuthorization")
		if ap, ok := get(props, "accessPolicies").([]any); ok && len(ap) > 0 {
			bad(ruleKeyVault, "access policies beside RBAC")
		}
	case "microsoft.web/sites":
		mustBe(ruleTLS, true, "httpsOnly")
		mustBeOneOf(ruleTLS, []string{"1.2", "1.3"}, "siteConfig", "minTlsVersion")
		if v := get(props, "siteConfig", "scmMinTlsVersion"); v != nil && v != "1.2" && v != "1.3" {
			bad(ruleTLS, "siteConfig.scmMinTlsVersion is %s", show(v))
		}
		if list, ok := get(props, "siteConfig", "appSettings").([]any); ok {
			settings := map[string]any{}
			for _, s := range list {
				if name, ok := get(s, "name").(string); ok {
					settings[name] = get(s, "value")
				}
			}
			out = append(out, checkSettings(r, settings)...)
		}
	case "microsoft.web/sites/config":
		if r.body["name"] == "appsettings" {
			out = append(out, checkSettings(r, props)...)
		}
	}
	return out
}

// checkSettings: nothing Flex refuses, secrets only as Key Vault references, no keys.
func checkSettings(r *resourceInstance, settings map[string]any) []finding {
	var out []finding
	bad := func(rule, format string, args ...any) {
		out = append(out, finding{rule, r.where(), "app setting " + fmt.Sprintf(format, args...)})
	}
	for name, v := range settings {
		if slices.ContainsFunc(flexRefuses, func(s string) bool { return strings.EqualFold(s, name) }) {
			bad(ruleFlex, "%s is refused on Flex Consumption (functionAppConfig sets it)", name)
		}
		if s, ok := textOf(v); ok && (strings.Contains(s, "AccountKey=") || strings.Contains(s, "SharedAccessKey=")) {
			bad(ruleSecrets, "%s carries a key: use the managed identity", name)
		}
	}
	for _, name := range secretSettings {
		v, ok := settings[name]
		if !ok {
			continue // the settings test requires them
		}
		if s, _ := textOf(v); !strings.HasPrefix(s, "@Microsoft.KeyVault(") {
			bad(ruleSecrets, "%s must be a Key Vault reference, is %s", name, show(v))
		}
	}
	return out
}

func show(v any) string {
	switch v := v.(type) {
	case nil:
		return "not set"
	case unknown:
		return "not known before deployment (" + v.expr + ")"
	case string:
		return fmt.Sprintf("%q", v)
	case template:
		return fmt.Sprintf("%q", string(v))
	}
	return fmt.Sprint(v)
}
