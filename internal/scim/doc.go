// Package scim is the SCIM 2.0 protocol layer for user provisioning by identity providers
// (Microsoft Entra ID, Okta): the User resource of RFC 7643 as this service keeps it, the
// filter language, PATCH, attribute projection, list and error messages and the discovery
// documents of RFC 7644. It knows no route, no store and no brand: internal/httpapi serves
// the endpoints on top of it and maps a User onto the provisioning service.
//
// Standard library only. github.com/elimity-com/scim was read and not adopted: it is a
// server that owns routing and resource handlers (this project routes in httpapi, per brand,
// behind the Functions host), it validates "active" strictly as a JSON boolean (Entra sends
// "False"), and it does not apply Entra's path-keyed PATCH values ("name.givenName" as a key
// of a path-less "replace"). See the package tests for the payloads that decided it.
//
// # Serving the endpoints with it
//
// Every response goes through WriteJSON, WriteUser or WriteError (Content-Type
// application/scim+json, exactly). Request bodies are checked with AcceptableContentType.
//
//	GET  /ServiceProviderConfig, /ResourceTypes[/User], /Schemas[/{id}]
//	     ServiceProviderConfig, ResourceTypes, ResourceType, Schemas, Schema
//	POST /Users            DecodeUser → store (Uniqueness on a taken userName) → WriteUser 201
//	GET  /Users/{id}       WriteUser 200 with attributes/excludedAttributes (ParseQuery)
//	GET  /Users?filter=…   ParseQuery → Filter.Equality (indexed) or Filter.Match → Query.Page
//	                       → ListResponse of User.JSON → WriteJSON 200
//	POST /Users/.search    DecodeSearchRequest, then as GET /Users
//	PUT  /Users/{id}       If-Match (MatchETag) → DecodeUser, keep ID and Meta → WriteUser 200
//	PATCH /Users/{id}      If-Match → DecodePatch → ApplyPatch → User.Equal to skip a no-op
//	                       write → WriteUser 200 (or 204)
//	DELETE /Users/{id}     If-Match → 204; NotFound afterwards
//
// # What it guarantees
//
//   - Errors are *Error values carrying the HTTP status and the RFC 7644 §3.12 scimType. Their
//     detail is one of a fixed set of sentences that describe the rule that was broken; no
//     error, and so no log line built from one, ever quotes a request (no email in a filter,
//     no value of a PATCH). Filter and path errors may add a byte offset.
//   - Decoding is tolerant where identity providers are known to deviate (attribute names in
//     any case, "active":"False", capitalised PATCH ops, unknown attributes and extension
//     schemas ignored) and strict where a guess would be unsafe (a key twice in one object,
//     a syntactically broken filter or path, a value of the wrong type).
//   - What the discovery documents advertise is generated from the same attribute table the
//     decoder, the filter, PATCH and projection use (schema.go), so they cannot drift apart.
//
// # Attributes this service does not keep
//
// Data minimisation: the User keeps userName, name (givenName, familyName, formatted),
// displayName, nickName, title, preferredLanguage, active, emails (value, type, primary),
// addresses (streetAddress, locality, postalCode, country, type, primary) and externalId.
// Every other attribute of the core User schema (RFC 7643 §4.1: phoneNumbers, password,
// locale, addresses.region, ...), of the enterprise extension (§4.3) and of any other
// extension schema is accepted and dropped: Entra ID's default attribute mappings send
// several of them in the same PATCH that deactivates a user, and refusing the request would
// keep the deactivation from ever being applied. A path naming no attribute of the core
// schema at all is refused (invalidPath), as is one that is malformed.
package scim
