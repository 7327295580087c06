// Package infra holds the Bicep templates that deploy popsell-gdpr to Azure: main.bicep and
// its modules/. It has no Go code of its own; its tests parse every template with tree-sitter
// and check it: syntax, EU-only locations, local auth off, TLS 1.2, no public blobs, no
// settings Flex Consumption refuses, the resource bodies against the Azure resource schemas
// (when ../shared/infra-facts/bicep-types is there), the app settings against internal/config
// and local.settings.sample.json, the Cosmos DB containers against internal/cosmosstore, the
// role definition ids, and the deployment package. testdata/broken is a copy that breaks each
// check, to prove the checks fail. They also run tools/deploy.sh against a stand-in az (its
// region refusals, the regions and secrets it passes); those tests need no cgo.
//
// The parser is cgo (tree-sitter's C runtime and the Bicep grammar), which is why only test
// files import it: nothing the handler builds depends on cgo.
package infra
