package httpapi

import (
	"bytes"
	"net/http"
	"net/url"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/templates"
)

// answerWithPage writes page p for the outcome err of what the request asked: the page's
// success state (status ok) when err is nil, else the page's problem with err's status. The
// brand's identity and the reader's language are filled in here. An error that is the
// service's fault answers JSON, as every route does.
func (a *api) answerWithPage(w http.ResponseWriter, r *http.Request, p templates.Page, d templates.PageData, err error, ok int) {
	status := ok
	if err != nil {
		status = statusOf[gdpr.ErrorCode(err)]
		if status == 0 || status == http.StatusInternalServerError {
			a.writeError(w, r, err)
			return
		}
		d.Problem = string(gdpr.ErrorCode(err))
		d.Done, d.Resent, d.Answered = false, false, ""
		if p == templates.PageConfirm && status == http.StatusGone {
			// A dead link is no dead end: the page asks for a new one (POST signup resend).
			d.Resend = resendPath(brandParam(r))
		}
	}
	b, berr := a.brands.GetBrand(r.Context(), brandParam(r))
	if berr == nil {
		d.Brand, d.Identity = b.Name, b.Identity
	} else if err == nil {
		// The brand is gone or unknown: the page says the link leads nowhere.
		status, d.Problem, d.Done, d.Resent, d.Answered = statusOf[gdpr.ErrorCode(berr)], string(gdpr.ErrorCode(berr)), false, false, ""
		if status == 0 || status == http.StatusInternalServerError {
			a.writeError(w, r, berr)
			return
		}
	}
	d.Language = pageLanguage(r, b)
	var page bytes.Buffer
	if err := a.pages.RenderPage(&page, p, d); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeHTML(w, status, page.Bytes())
}

// pageLanguage is the language of a page: the link's own ?lang= when it names a supported
// one, then the browser's Accept-Language, then the brand's default, then English.
func pageLanguage(r *http.Request, b gdpr.Brand) string {
	return gdpr.ReaderLanguage(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"), b.DefaultLanguage)
}

// readForm reads a form-encoded body.
func readForm(r *http.Request) (url.Values, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, "invalid", "malformed form body"}
	}
	return form, nil
}

// writeHTML serves a page that must not leak its token: no referrer, no caching, no framing,
// no script but the page's own.
func writeHTML(w http.ResponseWriter, status int, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", confirmCSP)
	w.WriteHeader(status)
	_, _ = w.Write(page)
}

func messageOf(err error) string {
	if e, ok := err.(*gdpr.Error); ok {
		return e.Message
	}
	return "something went wrong"
}

func resendPath(brand gdpr.BrandID) string {
	return "/api/brands/" + url.PathEscape(string(brand)) + "/signup/resend"
}
