package httpapi

import (
	"net/http"
	"strconv"

	"popsell-gdpr/internal/gdpr"
)

// orders takes the brand shop's orders, signed like the SSO webhooks: the Member's customer
// becomes (or already is) a contact with R-CONSENT-3's opt-ins and the sale in its history.
// Each orderId applies once; an address on the blacklist is refused and counted (R-MAIL-4).
func (a *api) orders(w http.ResponseWriter, r *http.Request) {
	var o gdpr.Order
	webhookID, ok := a.signedWebhook(w, r, &o)
	if !ok {
		return
	}
	// The webhook id is remembered with the order's own claim, in one request.
	res, err := a.contacts.RecordOrder(r.Context(), brandParam(r), o, a.webhooks.Memory(brandParam(r), webhookID))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// syncContacts takes a batch of the brand's contact synchronisation, signed like its other
// webhooks (R-CONSENT-4, R-RET-9).
func (a *api) syncContacts(w http.ResponseWriter, r *http.Request) {
	var batch gdpr.SyncBatch
	webhookID, ok := a.signedWebhook(w, r, &batch)
	if !ok {
		return
	}
	res, err := a.contacts.Sync(r.Context(), brandParam(r), batch)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.rememberWebhook(r, webhookID)
	writeJSON(w, http.StatusOK, res)
}

// createContact records a contact a Member entered, relayed by the platform backend with the
// admin token (R-RET-4); a blacklisted address is refused (R-MAIL-4).
func (a *api) createContact(w http.ResponseWriter, r *http.Request) {
	var in gdpr.ManualContact
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.contacts.CreateManual(r.Context(), brandParam(r), r.PathValue("id"), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	switch res.Outcome {
	case gdpr.ManualContactCreated:
		status = http.StatusCreated
	case gdpr.ManualBlacklisted:
		a.writeError(w, r, errGloballyOptedOut)
		return
	}
	writeJSON(w, status, res)
}

// errGloballyOptedOut refuses a contact whose address opted out of every member of the brand,
// in the error envelope like every refusal. (An order for such an address still answers 200
// with "outcome":"blacklisted": a webhook sender retries any other status.)
var errGloballyOptedOut = &httpError{http.StatusConflict, "blacklisted",
	"this address opted out of every member of the brand and cannot be entered again (R-MAIL-4)"}

// memberContacts lists a Member's own contacts for the platform backend, which names the
// member (R-ACCESS-2); opted-out addresses are hidden (R-RET-7), pending ones left out (R-RET-6).
func (a *api) memberContacts(w http.ResponseWriter, r *http.Request) {
	views, err := a.contacts.MemberContacts(r.Context(), brandParam(r), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, memberContactsAnswer{Contacts: views})
}

// brandContacts pages through the contacts the Brand may read: a Brand opt-in, any but
// "none" (R-ACCESS-1).
func (a *api) brandContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	views, next, err := a.contacts.BrandContacts(r.Context(), brandParam(r), q.Get("after"), limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, brandContactsAnswer{Contacts: views, Next: next})
}
