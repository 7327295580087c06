// Package gdpr is the domain of popsell-gdpr: brands, members, external users, contacts,
// consent, blacklists, erasure and retention rules, and the services that apply them.
//
// It imports no adapter: besides the standard library, only golang.org/x/net/idna and
// golang.org/x/text (an address's canonical spelling, R-MAIL-4) and two small value packages
// of this module, money (order amounts) and jsondepth (the nesting bound of queue messages).
// Everything outside the process — storage, queues, blobs, mail, time — is reached through the
// ports in ports.go, so the same rules run on the embedded store in local mode and on Azure's
// managed services.
//
// Layout:
//   - The services, one per capability, each over a Core and only the ports it uses, are
//     listed in service.go (the ContactService in contact_service.go); a service's use cases
//     have files of their own (signup.go, suspend.go, block.go, contact_orders.go, ...).
//   - The documents and their rules: brand.go, user.go, contact.go, records.go, role.go,
//     consent.go (the consent state machines), period.go, digest.go (keyed digests).
//   - Retention: retention.go and contactretention.go decide what falls due and when; the
//     sweeps (sweep.go, contactretention.go) publish it.
//   - Erasure has one owner: erase.go, with erase_member.go and erase_contact.go for each kind
//     of subject; policy.go says what happens to each field, erasure_audit.go reads the audit
//     trail. Every path that erases goes through erase.go.
//   - datamap.go classifies every stored field once (the data map); its tests hold the code
//     and the erasure to it.
//   - uniquekeys.go is the protocol that keeps an address or an external id unique without
//     transactions.
//
// Rule ids (R-ERASE-1, R-SIGNUP-2, ...) refer to the project's rules catalogue, docs/rules.md.
package gdpr
