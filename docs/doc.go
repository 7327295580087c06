// Package docs holds the project's own documents: rules.md, the catalogue of the rules the
// product applies, each stated as the Data Protection Guide states it. Its test checks that
// every rule id the code and the READMEs cite is defined there.
package docs

// The data map's documents, datamap/popsell.fides.yml and records-of-processing.md, are
// generated from internal/gdpr/datamap.go; generated_test.go fails when they are stale.
//go:generate go run ../tools/datamap -root ..
