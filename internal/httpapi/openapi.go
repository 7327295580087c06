package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sync"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/money"
	"popsell-gdpr/internal/openapi"
)

// The OpenAPI 3.1 description of every route the router serves (GET /api/openapi.json). Its
// schemas are those of the Go types the handlers decode and encode (bodies.go and the domain's
// types); openapi_test.go holds it to the router, route for route and method for method, and
// the end-to-end tests validate their requests and answers against it.

// Security schemes, by the names operations use.
const (
	secAdmin    = "adminBearer"
	secWebhook  = "standardWebhooks"
	secMailjet  = "mailjetBasic"
	secSCIM     = "scimBearer"
	scimRFC7644 = "https://www.rfc-editor.org/rfc/rfc7644"
)

var securitySchemes = []openapi.SecurityScheme{
	{Name: secAdmin, Scheme: openapi.Schema{"type": "http", "scheme": "bearer",
		"description": "POPSELL_ADMIN_TOKEN, for the platform backend and operators; in Azure the host's function key (x-functions-key) is asked first."}},
	{Name: secWebhook, Scheme: openapi.Schema{"type": "apiKey", "in": "header", "name": "webhook-signature",
		"description": "Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 over id.timestamp.body with the brand's webhookSecret). A webhook-id seen before answers 200 {\"outcome\":\"replayed\"} and changes nothing."}},
	{Name: secMailjet, Scheme: openapi.Schema{"type": "http", "scheme": "basic",
		"description": "The brand's mailjetCallback user and password, set in the Event API callback URL."}},
	{Name: secSCIM, Scheme: openapi.Schema{"type": "http", "scheme": "bearer",
		"description": "The brand's SCIM token (scimToken in the brand settings)."}},
}

// Responses many routes share.
var (
	errorAnswer = &openapi.Body{Type: reflect.TypeFor[errorBody]()}
	anyError    = openapi.Response{Description: "the error envelope {\"error\":{\"code\",\"message\"}}: 400 bad input, 401, 403, 404, 405 (with Allow), 409, 410, 413, 415, 429, 503 (with Retry-After)", Body: errorAnswer}
	htmlPage    = &openapi.Body{ContentType: "text/html"}
)

func typed[T any]() *openapi.Body { return &openapi.Body{Type: reflect.TypeFor[T]()} }

func ok[T any](desc string) openapi.Response {
	return openapi.Response{Status: http.StatusOK, Description: desc, Body: typed[T]()}
}

func status[T any](code int, desc string) openapi.Response {
	return openapi.Response{Status: code, Description: desc, Body: typed[T]()}
}

var (
	documentOnce sync.Once
	documentJSON []byte
	documentErr  error
)

// apiDocument renders the document once: it is built from types, not from state.
func apiDocument() ([]byte, error) {
	documentOnce.Do(func() { documentJSON, documentErr = json.Marshal(describeAPI()) })
	return documentJSON, documentErr
}

func (a *api) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := apiDocument()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}

// describeAPI is the document. Each operation's pattern is the router's, verbatim.
func describeAPI() *openapi.Document {
	d := openapi.New(openapi.Info{Title: "popsell-gdpr", Version: "1",
		Description: "The data-protection backend of Popsell: signup with double opt-in, SSO and SCIM provisioning, orders and contacts with their consents, Mailjet callbacks, retention, erasure and its ledger. README.md tells the rules behind each route."},
		securitySchemes...)
	d.Define(reflect.TypeFor[gdpr.Date](), openapi.Schema{"type": "string", "format": "date"})
	d.Define(reflect.TypeFor[gdpr.Period](), openapi.Schema{"type": "string", "description": "a duration: ISO 8601 (P3Y, P30D, PT1H) or Go (72h)"})
	d.Define(reflect.TypeFor[money.Text](), openapi.Schema{"type": []string{"string", "number"}, "description": "an exact decimal amount, at most the currency's ISO 4217 minor unit of decimals"})

	admin, webhook := []string{secAdmin}, []string{secWebhook}
	add := func(pattern, summary string, sec []string, req *openapi.Body, responses ...openapi.Response) {
		d.Add(openapi.Operation{Pattern: pattern, Summary: summary, Security: sec, Request: req,
			Responses: append(responses, anyError)})
	}
	// page is add for a route a person's browser calls, whose answers may be pages.
	page := func(pattern, summary string, req *openapi.Body, responses ...openapi.Response) {
		d.Add(openapi.Operation{Pattern: pattern, Summary: summary, Security: []string{}, Request: req, Page: true,
			Responses: append(responses, anyError)})
	}
	webhookAnswer := func(desc string, t reflect.Type) openapi.Response {
		return openapi.Response{Status: http.StatusOK, Description: desc, Body: &openapi.Body{Schema: openapi.Schema{
			"anyOf": []openapi.Schema{d.Schema(t), d.Schema(reflect.TypeFor[webhookReplayedAnswer]())}}}}
	}
	limits := []openapi.Param{{Name: "after", In: "query"}, {Name: "limit", In: "query", Schema: openapi.Schema{"type": "integer", "minimum": 1, "maximum": 1000}}}

	add("GET /api/health", "Liveness, or with deep=1 (admin) each dependency checked", nil, nil,
		ok[healthAnswer]("alive; with deep=1 every check ok"),
		openapi.Response{Status: http.StatusServiceUnavailable, Description: "deep=1: a check failed or timed out; or a restored store waits for its replay",
			Body: &openapi.Body{Schema: openapi.Schema{"anyOf": []openapi.Schema{d.Schema(reflect.TypeFor[healthAnswer]()), d.Schema(reflect.TypeFor[errorBody]())}}}})
	add("GET /api/openapi.json", "This document", nil, nil, openapi.Response{Status: http.StatusOK, Description: "OpenAPI 3.1", Body: &openapi.Body{Schema: openapi.Schema{"type": "object"}}})

	// Brands.
	add("PUT /api/admin/brands/{brand}", "Create or replace a brand's settings (secrets are write-only: left out, kept)", admin, typed[gdpr.BrandSettings](),
		ok[brandView]("replaced"), status[brandView](http.StatusCreated, "created"))
	add("GET /api/admin/brands/{brand}", "A brand's settings, secrets as has… flags", admin, nil, ok[brandView]("the brand"))
	add("PATCH /api/admin/brands/{brand}", "Change a brand's settings by JSON Merge Patch (RFC 7396)", admin,
		&openapi.Body{Type: reflect.TypeFor[gdpr.BrandSettings](), ContentType: mergePatchType}, ok[brandView]("patched"))
	add("POST /api/admin/brands/{brand}/whitelist", "Add addresses to a restricted brand's whitelist (R-SIGNUP-4)", admin, typed[gdpr.WhitelistInput](), ok[whitelistAnswer]("added"))
	add("POST /api/admin/brands/{brand}/contract/end", "End the brand's contract: every subject erased after the grace period (R-ERASE-7)", admin, nil, ok[brandView]("the brand"))
	add("POST /api/admin/brands/{brand}/suspend", "Suspend the program (R-ERASE-8)", admin, nil, ok[brandView]("the brand"))
	add("POST /api/admin/brands/{brand}/relaunch", "Relaunch a suspended program before keepUntil (R-ERASE-8)", admin, nil, ok[brandView]("the brand"))

	// Signup.
	add("POST /api/brands/{brand}/signup", "Sign up; a confirmation mail follows (R-SIGNUP-2)", nil, typed[gdpr.SignupInput](), status[acceptedAnswer](http.StatusAccepted, "the same answer whatever the address"))
	page("GET /api/brands/{brand}/signup/confirm", "The confirmation page (changes nothing; the token is in the fragment)", nil,
		openapi.Response{Status: http.StatusOK, Description: "the page", Body: htmlPage})
	page("POST /api/brands/{brand}/signup/confirm", "Confirm a signup with the mailed token",
		&openapi.Body{Type: reflect.TypeFor[tokenRequest](), Example: map[string]string{"token": "q3V8k0cT1m3sQk3lW9yZkq4nHcY8m2bQ3dV7xU1sT0e"}},
		ok[confirmedAnswer]("confirmed"))
	page("POST /api/brands/{brand}/signup/resend", "Send the confirmation mail again (at most once a minute per address)", typed[emailRequest](),
		status[acceptedAnswer](http.StatusAccepted, "the same answer whatever the address"))

	// Members.
	add("POST /api/admin/brands/{brand}/members/{id}/block", "Block a member: erasure after the grace period", admin, typed[blockRequest](), ok[memberView]("blocked"))
	add("POST /api/admin/brands/{brand}/members/{id}/restore", "Roll a pending erasure back", admin, nil, ok[memberView]("restored"))
	add("POST /api/admin/brands/{brand}/members/{id}/activity", "Record a login or an interaction (R-RET-1, R-RET-8)", admin, typed[memberActivityRequest](), ok[memberView]("recorded"))
	add("POST /api/admin/brands/{brand}/members/{id}/terms", "Record the member's acceptance of the platform T&C (R-SIGNUP-1)", admin, typed[termsRequest](), ok[termsAnswer]("recorded"))
	add("POST /api/brands/{brand}/members/{id}/release-soft-bounce", "The member asks to be mailed again after a soft bounce (R-MAIL-2)", admin, nil, ok[memberEmailStatusAnswer]("released"))

	// Brands' systems.
	add("POST /api/brands/{brand}/sso/events", "user.upserted / user.deleted from the brand's identity system (R-SSO-1…3)", webhook, typed[ssoEvent](),
		webhookAnswer("applied", reflect.TypeFor[ssoAnswer]()))
	add("POST /api/brands/{brand}/orders", "An order for a member's customer: contact and sale (R-CONSENT-3, R-CONSENT-8)", webhook, typed[gdpr.Order](),
		webhookAnswer("applied once per orderId", reflect.TypeFor[gdpr.OrderResult]()))
	add("POST /api/brands/{brand}/contacts/sync", "A batch of the brand's contact synchronisation (R-CONSENT-4, R-RET-9)", webhook, typed[gdpr.SyncBatch](),
		webhookAnswer("applied", reflect.TypeFor[gdpr.SyncResult]()))
	add("POST /api/brands/{brand}/mailjet/events", "Mailjet Event API callbacks, one event or a grouped array (R-MAIL-1…5)", []string{secMailjet},
		&openapi.Body{Schema: mailjetEventsSchema}, ok[gdpr.MailCallbackStats]("applied"))

	// Contacts.
	add("GET /api/brands/{brand}/members/{id}/contacts", "A member's own contacts (R-ACCESS-2)", admin, nil, ok[memberContactsAnswer]("the contacts"))
	add("POST /api/brands/{brand}/members/{id}/contacts", "A contact the member entered (R-RET-4)", admin, typed[gdpr.ManualContact](),
		ok[gdpr.ManualResult]("known already"), status[gdpr.ManualResult](http.StatusCreated, "created"))
	add("POST /api/brands/{brand}/members/{id}/contacts/{contact}/invite", "The member invites its contact (R-RET-5)", admin, nil,
		ok[invitationAnswer]("already pending: unchanged"), status[invitationAnswer](http.StatusAccepted, "invited"))
	add("POST /api/brands/{brand}/members/{id}/contacts/{contact}/activity", "A contact's click or like (R-RET-3)", admin, typed[contactActivityRequest](), ok[contactActivityAnswer]("recorded"))
	add("POST /api/brands/{brand}/members/{id}/contacts/{contact}/release-soft-bounce", "Release a contact's soft bounce (R-MAIL-2)", admin, nil, ok[contactEmailStatusAnswer]("released"))
	d.Add(openapi.Operation{Pattern: "GET /api/admin/brands/{brand}/contacts", Summary: "The contacts the brand may read (R-ACCESS-1)", Security: admin, Params: limits,
		Responses: []openapi.Response{ok[brandContactsAnswer]("a page; next names the following one"), anyError}})

	// Pages mailed to people, and their answers.
	for _, p := range []struct{ path, what string }{
		{"/api/brands/{brand}/invitation", "a contact's invitation"},
		{"/api/brands/{brand}/unsubscribe", "a contact's unsubscribe"},
		{"/api/brands/{brand}/program/opt-out", "a suspended program's opt-out"},
	} {
		page("GET "+p.path, "The page of "+p.what+" (changes nothing; the token is in the fragment)", nil,
			openapi.Response{Status: http.StatusOK, Description: "the page", Body: htmlPage})
		page("POST "+p.path, "The answer to "+p.what, typed[answerRequest](), ok[pageAnswer]("applied"))
	}

	// Erasure, its audit trail and ledger.
	d.Add(openapi.Operation{Pattern: "GET /api/admin/brands/{brand}/erasures", Summary: "The erasure audit trail (R-ERASE-9)", Security: admin, Params: limits,
		Responses: []openapi.Response{ok[erasuresAnswer]("a page"), anyError}})
	add("GET /api/admin/brands/{brand}/ledger/seals", "The ledger's sealed days", admin, nil, ok[sealsAnswer]("the seals"))
	add("GET /api/admin/brands/{brand}/ledger/records/{record}/proof", "One erasure record's inclusion proof", admin, nil, ok[gdpr.LedgerProof]("the proof"))
	add("GET /api/admin/brands/{brand}/ledger/export", "The whole ledger as JSON Lines, what tools/ledgerverify reads", admin, nil,
		openapi.Response{Status: http.StatusOK, Description: "one entry per line", Body: &openapi.Body{ContentType: "application/x-ndjson"}})
	add("GET /api/admin/restore", "Whether a restored store waits for its replay", admin, nil, ok[restoreStatusAnswer]("per brand"))
	add("POST /api/admin/restore/replay", "Replay the erasures a restored store lost (idempotent)", admin, nil, ok[replayAnswer]("replayed"))
	add("GET /api/admin/datamap", "The data map: every stored field classified", admin, nil, ok[dataMapAnswer]("the map"))

	// Data-subject rights and exports.
	add("POST /api/admin/brands/{brand}/requests", "Record a data-subject request or a brand export (R-RIGHTS-1, R-ACCESS-3)", admin, typed[gdpr.RequestInput](),
		status[requestView](http.StatusCreated, "recorded"), ok[requestView]("the request an Idempotency-Key already made"))
	d.Add(openapi.Operation{Pattern: "GET /api/admin/brands/{brand}/requests", Summary: "The register of requests (R-RIGHTS-1)", Security: admin,
		Params: append([]openapi.Param{{Name: "from", In: "query", Schema: openapi.Schema{"type": "string", "format": "date-time"}},
			{Name: "to", In: "query", Schema: openapi.Schema{"type": "string", "format": "date-time"}}, {Name: "kind", In: "query"}}, limits...),
		Responses: []openapi.Response{ok[registerAnswer]("a page, oldest first"), anyError}})
	add("GET /api/admin/brands/{brand}/requests/{id}", "One request, with its download once produced", admin, nil, ok[requestView]("the request"))
	add("POST /api/admin/brands/{brand}/requests/{id}/approvals", "Approve a brand export (two approvers, two roles)", admin, typed[gdpr.ApprovalInput](), ok[requestView]("the request"))
	add("POST /api/admin/brands/{brand}/requests/{id}/lift", "Lift a restriction or an objection", admin, nil, ok[requestView]("the request"))
	add("GET /api/brands/{brand}/exports/{token}", "Download an export (at most 3 times, until its link expires)", nil, nil,
		openapi.Response{Status: http.StatusOK, Description: "the zip", Body: &openapi.Body{ContentType: "application/zip"}})

	// Blacklist administration.
	d.Add(openapi.Operation{Pattern: "GET /api/admin/brands/{brand}/blacklist", Summary: "Whether an address is blacklisted, why and since when", Security: admin,
		Params:    []openapi.Param{{Name: "email", In: "query", Required: true, Description: "hashed at once, never stored; POST …/blacklist/lookup keeps it out of URLs"}},
		Responses: []openapi.Response{ok[gdpr.BlacklistStatus]("the status"), anyError}})
	add("POST /api/admin/brands/{brand}/blacklist/lookup", "Whether an address is blacklisted (the address in the body)", admin, typed[blacklistLookupBody](), ok[gdpr.BlacklistStatus]("the status"))
	add("DELETE /api/admin/brands/{brand}/blacklist", "Remove a hard bounce or a block (a complaint or opt-out only by the person's own consent: 409)", admin,
		typed[blacklistRemovalBody](), ok[blacklistRemovedAnswer]("removed, with its audit record"))
	d.Add(openapi.Operation{Pattern: "GET /api/admin/brands/{brand}/blacklist/removals", Summary: "The removals' audit records, without addresses", Security: admin, Params: limits,
		Responses: []openapi.Response{ok[blacklistRemovalsAnswer]("a page"), anyError}})

	// The hash-key rotation.
	brandFilter := []openapi.Param{{Name: "brand", In: "query", Description: "one brand; every brand when left out"}}
	d.Add(openapi.Operation{Pattern: "GET /api/admin/hash-keys", Summary: "The stored digests per key version and form, and what each version may do", Security: admin,
		Params: brandFilter, Responses: []openapi.Response{ok[gdpr.KeyReport]("the report"), anyError}})
	d.Add(openapi.Operation{Pattern: "POST /api/admin/hash-keys/rekey", Summary: "Re-key the stored digests to the newest key (idempotent; \"done\": false means send it again)", Security: admin,
		Params: brandFilter, Responses: []openapi.Response{ok[gdpr.RekeyResult]("what this run did"), anyError}})
	add("POST /api/admin/hash-keys/{version}/retire", "Check that a key version may be retired (409 while stored digests still need it)", admin, nil,
		ok[gdpr.KeyVersionReport]("the version's use: nothing needs it plain"))

	// Operators, local mode.
	add("PUT /api/admin/test-clock", "Move the service clock (local mode with POPSELL_TEST_CLOCK=1)", admin, typed[testClockRequest](), ok[testClockAnswer]("the new now"))
	add("GET /api/admin/queues", "Queue counts (local mode)", admin, nil, openapi.Response{Status: http.StatusOK, Description: "counts per queue", Body: &openapi.Body{Schema: openapi.Schema{"type": "object"}}})
	add("GET /api/admin/queues/{queue}/deadletters", "A queue's dead letters, by ids (local mode)", admin, nil, ok[deadLettersAnswer]("oldest first"))
	add("POST /api/admin/queues/{queue}/deadletters/{ref}/replay", "Put a dead letter back (local mode)", admin, nil, ok[requeuedAnswer]("requeued"))

	describeSCIM(d)
	return d
}

// mailjetEventsSchema is Mailjet's own wire format (internal/mailjet reads it): documented
// loosely, as what Mailjet sends is Mailjet's to change.
var mailjetEventsSchema = func() openapi.Schema {
	event := openapi.Schema{"type": "object", "required": []string{"event"}, "properties": map[string]any{
		"event":       openapi.Schema{"type": "string", "description": "sent, open, click, bounce, spam, blocked, unsub; others are counted as ignored"},
		"time":        openapi.Schema{"description": "Unix seconds, a number or a string; the handler judges it (R-MAIL-*: a time out of range is skipped or undated)"},
		"email":       openapi.Schema{"type": "string"},
		"CustomID":    openapi.Schema{"type": "string"},
		"hard_bounce": openapi.Schema{"type": []string{"boolean", "string", "integer"}},
	}}
	return openapi.Schema{"anyOf": []openapi.Schema{event, {"type": "array", "items": event}}}
}()

// describeSCIM lists the SCIM 2.0 endpoints: their bodies are RFC 7643's resources and RFC
// 7644's messages, which the RFCs describe, not this document.
func describeSCIM(d *openapi.Document) {
	const base = "/api/brands/{brand}/scim/v2"
	scimBody := &openapi.Body{ContentType: "application/scim+json", Schema: openapi.Schema{"type": "object"}}
	sec := []string{secSCIM}
	for _, e := range []struct {
		pattern, summary string
		request          bool
		status           int
	}{
		{"GET " + base + "/ServiceProviderConfig", "RFC 7644 §5", false, http.StatusOK},
		{"GET " + base + "/ResourceTypes", "RFC 7644 §4", false, http.StatusOK},
		{"GET " + base + "/ResourceTypes/{name}", "RFC 7644 §4", false, http.StatusOK},
		{"GET " + base + "/Schemas", "RFC 7644 §4", false, http.StatusOK},
		{"GET " + base + "/Schemas/{id}", "RFC 7644 §4", false, http.StatusOK},
		{"GET " + base + "/Users", "List or filter users (RFC 7644 §3.4.2)", false, http.StatusOK},
		{"POST " + base + "/Users/.search", "Search users (RFC 7644 §3.4.3)", true, http.StatusOK},
		{"POST " + base + "/Users", "Create a user (RFC 7644 §3.3)", true, http.StatusCreated},
		{"GET " + base + "/Users/{id}", "A user (RFC 7644 §3.4.1)", false, http.StatusOK},
		{"PUT " + base + "/Users/{id}", "Replace a user (RFC 7644 §3.5.1)", true, http.StatusOK},
		{"PATCH " + base + "/Users/{id}", "Patch a user (RFC 7644 §3.5.2)", true, http.StatusOK},
		{"DELETE " + base + "/Users/{id}", "Delete a user: blocked, erased after the grace period (RFC 7644 §3.6)", false, http.StatusNoContent},
	} {
		op := openapi.Operation{Pattern: e.pattern, Summary: e.summary, Tags: []string{"SCIM 2.0"}, Security: sec, ExternalDocs: scimRFC7644,
			Responses: []openapi.Response{{Status: e.status, Description: "RFC 7644", Body: scimBody},
				{Description: "a SCIM error (RFC 7644 §3.12)", Body: scimBody}}}
		if e.status == http.StatusNoContent {
			op.Responses[0].Body = nil
		}
		if e.request {
			op.Request = scimBody
		}
		d.Add(op)
	}
}
