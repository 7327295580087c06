// Package docs holds the project's own documents: rules.md, the catalogue of the rules the
// product applies, each stated as the Data Protection Guide states it. Its test checks that
// every rule id the code and the READMEs cite is defined there.
package docs
