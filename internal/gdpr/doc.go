// Package gdpr is the domain of popsell-gdpr: brands, members, external users, contacts,
// consent, blacklists, erasure and retention rules, and the Service that applies them.
//
// It imports only the standard library. Everything outside the process — storage, queues,
// blobs, mail, time — is reached through the ports in ports.go, so the same rules run on the
// embedded store in local mode and on Azure's managed services.
//
// Rule ids (R-ERASE-1, R-SIGNUP-2, ...) refer to the project's rules catalogue, docs/rules.md.
package gdpr
