// Package httpapi is the one router of the handler: the /api/* routes that the Functions host
// forwards raw, the /{FunctionName} invocations of timer and queue functions, and the
// readiness answer on GET /.
package httpapi

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"golang.org/x/sync/semaphore"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/templates"
	"popsell-gdpr/internal/triggers"
)

// Options wire the router.
type Options struct {
	Brands    *gdpr.BrandService
	Blacklist *gdpr.BlacklistService
	Signup    *gdpr.SignupService
	Retention *gdpr.RetentionService
	Erasure   *gdpr.ErasureService
	// MailEvents releases soft bounces; MailCallback takes the mail provider's event callbacks.
	MailEvents   *gdpr.MailEventService
	MailCallback *gdpr.MailCallback
	// Provisioning takes the brands' SSO webhooks and SCIM calls.
	Provisioning *gdpr.ProvisioningService
	// Webhooks authenticate the brands' signed webhooks (SSO events, orders, contact sync) and
	// answer a replayed id.
	Webhooks *gdpr.WebhookService
	// Contacts records orders and reads contacts under the access rules.
	Contacts *gdpr.ContactService
	// Ledger answers the erasure ledger's seals, proofs and export.
	Ledger *gdpr.LedgerService
	// Restore tells a restored store and replays the erasures it lost; while a replay is
	// pending, the router serves only the routes that help with it (restore.go).
	Restore *gdpr.RestoreService
	// HashKeys counts the stored digests per key version and re-keys them (hashkeys.go).
	HashKeys *gdpr.HashKeyService
	// Requests takes data-subject requests and keeps their register.
	Requests *gdpr.RequestService
	// Exports serves the downloads of exports (R-ACCESS-3).
	Exports *gdpr.ExportService
	// Triggers are the queue and timer functions the host invokes by name.
	Triggers triggers.Set
	// Requeue publishes the later copy of a job that failed as unavailable (defer.go).
	Requeue gdpr.Queue
	// BaseURL is the public origin, for the URLs SCIM returns (meta.location).
	BaseURL string

	AdminToken string
	Version    string
	Logger     *slog.Logger
	// QueueStats answers GET /api/admin/queues ({"queues": counts per queue, ...}); nil where
	// the platform owns the queues (Azure mode).
	QueueStats func(ctx context.Context) (any, error)
	// TestClock is set only in local mode with POPSELL_TEST_CLOCK=1 (PUT /api/admin/test-clock).
	TestClock *gdpr.TestClock
	// Pages writes the pages people open from their mail; a new set when nil.
	Pages *templates.Set
	// HealthChecks are what GET /api/health?deep=1 asks (operators.go).
	HealthChecks []HealthCheck
	// DeadLetters lists and replays local mode's dead letters; nil in Azure mode, where
	// Service Bus keeps them (operators.go).
	DeadLetters DeadLetters
}

type api struct {
	brands         *gdpr.BrandService
	blacklist      *gdpr.BlacklistService
	signups        *gdpr.SignupService
	retention      *gdpr.RetentionService
	erasure        *gdpr.ErasureService
	mailEvents     *gdpr.MailEventService
	mailCallback   *gdpr.MailCallback
	provisioning   *gdpr.ProvisioningService
	webhooks       *gdpr.WebhookService
	contacts       *gdpr.ContactService
	ledger         *gdpr.LedgerService
	restore        *gdpr.RestoreService
	hashKeyService *gdpr.HashKeyService
	requests       *gdpr.RequestService
	exports        *gdpr.ExportService
	triggers       triggers.Set
	requeue        gdpr.Queue
	baseURL        string
	adminToken     []byte
	version        string
	log            *slog.Logger
	queueStats     func(ctx context.Context) (any, error)
	testClock      *gdpr.TestClock
	healthChecks   []HealthCheck
	deadLetters    DeadLetters
	bodyBudget     *semaphore.Weighted // bytes of request bodies in flight (limitBodies)
	pages          *templates.Set
}

// New returns the whole mux.
func New(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &api{
		brands: o.Brands, blacklist: o.Blacklist, signups: o.Signup, retention: o.Retention, erasure: o.Erasure, mailEvents: o.MailEvents, mailCallback: o.MailCallback, provisioning: o.Provisioning, webhooks: o.Webhooks, contacts: o.Contacts, ledger: o.Ledger, restore: o.Restore, hashKeyService: o.HashKeys, requests: o.Requests, exports: o.Exports, triggers: o.Triggers, requeue: o.Requeue, baseURL: o.BaseURL,
		adminToken: []byte(o.AdminToken), version: o.Version, log: o.Logger,
		queueStats: o.QueueStats, testClock: o.TestClock, healthChecks: o.HealthChecks, deadLetters: o.DeadLetters,
	}
	a.pages = o.Pages
	if a.pages == nil {
		a.pages = templates.New()
	}
	a.initBodyBudget()
	mux, routed := http.NewServeMux(), http.NewServeMux()
	a.register(mux)
	a.register(routed)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(routed, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			a.writeError(w, r, &httpError{http.StatusMethodNotAllowed, "method_not_allowed", "this route does not take this method; the Allow header lists those it takes"})
			return
		}
		a.writeError(w, r, &httpError{http.StatusNotFound, "not_found", "no such route"})
	})
	return noSniff(a.recoverPanics(a.logRequests(a.limitBodies(mux))))
}

// register adds every route to m: the readiness answer, the API, SCIM and the invocations.
func (a *api) register(m *http.ServeMux) {
	// The host's readiness probe: any answer means ready (wire contract §1).
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, statusAnswer{Status: "ready"})
	})
	for _, rt := range append(a.routes(), a.scimRoutes()...) {
		h := rt.handler
		if !servedDuringReplay[rt.pattern] {
			h = a.refuseWhileReplayPending(h)
		}
		if rt.admin {
			h = a.requireAdmin(h)
		}
		m.Handle(rt.pattern, h)
	}
	a.invocations(m)
}

// probedMethods are the methods the routes use, in the order Allow lists them; HEAD is
// answered wherever GET is (ServeMux serves HEAD through a GET pattern).
var probedMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods are the methods routed (the routes without the catch-all) would serve r's
// path with; none means the path is no route at all. A wrong method is told apart from a
// wrong path so a client sees 405 and what to send instead (RFC 9110 §15.5.6), where the
// catch-all alone would answer 404.
func allowedMethods(routed *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range probedMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := routed.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

type route struct {
	pattern string
	admin   bool
	handler http.HandlerFunc
}

// routes is the HTTP API contract (README, "HTTP API"). Function folders mirror it; a test checks that
// every function.json route reaches one of these patterns.
func (a *api) routes() []route {
	return []route{
		{"GET /api/health", false, a.health},
		{"GET /api/openapi.json", false, a.openAPI},
		{"PUT /api/admin/brands/{brand}", true, a.putBrand},
		{"GET /api/admin/brands/{brand}", true, a.getBrand},
		{"PATCH /api/admin/brands/{brand}", true, a.patchBrand},
		{"POST /api/admin/brands/{brand}/whitelist", true, a.addWhitelist},
		{"GET /api/admin/brands/{brand}/blacklist", true, a.lookupBlacklistByQuery},
		{"POST /api/admin/brands/{brand}/blacklist/lookup", true, a.lookupBlacklistByBody},
		{"DELETE /api/admin/brands/{brand}/blacklist", true, a.removeBlacklist},
		{"GET /api/admin/brands/{brand}/blacklist/removals", true, a.listBlacklistRemovals},
		{"POST /api/brands/{brand}/signup", false, a.signup},
		{"GET /api/brands/{brand}/signup/confirm", false, a.confirmPage},
		{"POST /api/brands/{brand}/signup/confirm", false, a.confirm},
		{"POST /api/brands/{brand}/signup/resend", false, a.resend},
		{"POST /api/brands/{brand}/sso/events", false, a.ssoEvents},
		{"POST /api/brands/{brand}/orders", false, a.orders},
		{"POST /api/brands/{brand}/contacts/sync", false, a.syncContacts},
		{"GET /api/brands/{brand}/members/{id}/contacts", true, a.memberContacts},
		{"POST /api/brands/{brand}/members/{id}/contacts", true, a.createContact},
		{"POST /api/brands/{brand}/members/{id}/contacts/{contact}/invite", true, a.invite},
		{"POST /api/brands/{brand}/members/{id}/contacts/{contact}/activity", true, a.contactActivity},
		{"POST /api/brands/{brand}/members/{id}/contacts/{contact}/release-soft-bounce", true, a.releaseContactSoftBounce},
		{"GET /api/brands/{brand}/invitation", false, a.showAnswerPage(a.invitationAnswers())},
		{"POST /api/brands/{brand}/invitation", false, a.takeAnswer(a.invitationAnswers())},
		{"GET /api/brands/{brand}/unsubscribe", false, a.showAnswerPage(a.unsubscribeAnswers())},
		{"POST /api/brands/{brand}/unsubscribe", false, a.unsubscribePost()},
		{"GET /api/brands/{brand}/program/opt-out", false, a.showAnswerPage(a.programOptOutAnswers())},
		{"POST /api/brands/{brand}/program/opt-out", false, a.takeAnswer(a.programOptOutAnswers())},
		{"GET /api/admin/brands/{brand}/contacts", true, a.brandContacts},
		{"GET /api/brands/{brand}/exports/{token}", false, a.exportDownload},
		{"POST /api/brands/{brand}/mailjet/events", false, a.mailjetEvents},
		{"POST /api/brands/{brand}/members/{id}/release-soft-bounce", true, a.releaseSoftBounce},
		{"POST /api/admin/brands/{brand}/members/{id}/block", true, a.blockMember},
		{"POST /api/admin/brands/{brand}/members/{id}/restore", true, a.restoreMember},
		{"POST /api/admin/brands/{brand}/members/{id}/activity", true, a.memberActivity},
		{"POST /api/admin/brands/{brand}/members/{id}/terms", true, a.acceptTerms},
		{"POST /api/admin/brands/{brand}/contract/end", true, a.endContract},
		{"POST /api/admin/brands/{brand}/suspend", true, a.suspendProgram},
		{"POST /api/admin/brands/{brand}/relaunch", true, a.relaunchProgram},
		{"GET /api/admin/brands/{brand}/erasures", true, a.listErasures},
		{"POST /api/admin/brands/{brand}/requests", true, a.createRequest},
		{"GET /api/admin/brands/{brand}/requests", true, a.listRequests},
		{"GET /api/admin/brands/{brand}/requests/{id}", true, a.getRequest},
		{"POST /api/admin/brands/{brand}/requests/{id}/approvals", true, a.approveRequest},
		{"POST /api/admin/brands/{brand}/requests/{id}/lift", true, a.liftRequest},
		{"GET /api/admin/brands/{brand}/ledger/seals", true, a.ledgerSeals},
		{"GET /api/admin/brands/{brand}/ledger/records/{record}/proof", true, a.ledgerProof},
		{"GET /api/admin/brands/{brand}/ledger/export", true, a.ledgerExport},
		{"PUT /api/admin/test-clock", true, a.setTestClock},
		{"GET /api/admin/queues", true, a.queues},
		{"GET /api/admin/queues/{queue}/deadletters", true, a.listDeadLetters},
		{"POST /api/admin/queues/{queue}/deadletters/{ref}/replay", true, a.replayDeadLetter},
		{"GET /api/admin/datamap", true, a.dataMap},
		{"GET /api/admin/restore", true, a.restoreStatus},
		{"POST /api/admin/restore/replay", true, a.restoreReplay},
		{"GET /api/admin/hash-keys", true, a.hashKeys},
		{"POST /api/admin/hash-keys/rekey", true, a.rekeyHashKeys},
		{"POST /api/admin/hash-keys/{version}/retire", true, a.retireHashKey},
	}
}

// bearerToken is the token of an "Authorization: Bearer <token>" header. The scheme is
// required, and compared without case as every HTTP auth scheme is (RFC 7235 §2.1); a bare
// token is no credential.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// requireAdmin checks the admin bearer token in constant time. In Azure the host's function
// keys are checked before this.
func (a *api) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.isAdmin(r) {
			a.refuseAdmin(w, r)
			return
		}
		next(w, r)
	}
}

func (a *api) isAdmin(r *http.Request) bool {
	token, ok := bearerToken(r)
	return ok && len(a.adminToken) > 0 && subtle.ConstantTimeCompare([]byte(token), a.adminToken) == 1
}

func (a *api) refuseAdmin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="popsell-gdpr admin"`)
	a.writeError(w, r, gdpr.Errorf(gdpr.CodeUnauthenticated, "admin bearer token missing or wrong"))
}

func brandParam(r *http.Request) gdpr.BrandID { return gdpr.BrandID(r.PathValue("brand")) }

func (a *api) queues(w http.ResponseWriter, r *http.Request) {
	if a.queueStats == nil {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeNotImplemented, "queue counts are shown by Azure Service Bus in Azure mode"))
		return
	}
	stats, err := a.queueStats(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, stats)
}

func (a *api) setTestClock(w http.ResponseWriter, r *http.Request) {
	if a.testClock == nil {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeForbidden, "the test clock exists only in local mode with POPSELL_TEST_CLOCK=1"))
		return
	}
	var in testClockRequest
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Now.IsZero() {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeInvalid, "now must be an RFC 3339 time"))
		return
	}
	if err := a.testClock.Set(in.Now); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, testClockAnswer{Now: a.testClock.Now()})
}
