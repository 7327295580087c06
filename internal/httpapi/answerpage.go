package httpapi

import (
	"context"
	"html/template"
	"mime"
	"net/http"
	"net/url"

	"popsell-gdpr/internal/gdpr"
)

// answerPage is a page that a link mailed to a contact opens, and the answer its form posts:
// the invitation (R-RET-5) and the unsubscribe page (R-CONSENT-7). Opening it changes nothing,
// since mail scanners fetch links. The token comes in the fragment, which no server or log
// sees; the page's one script (the signup page's, allowed by its hash) moves it into the form.
type answerPage struct {
	page   *template.Template
	path   func(gdpr.BrandID) string
	apply  func(ctx context.Context, brand gdpr.BrandID, token, answer string) error
	status string // the JSON answer's status
}

// answerPageData is what both pages show: the form, a problem, or the answer recorded.
type answerPageData struct {
	Action, Problem, Answered string
}

func (a *api) showAnswerPage(p answerPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.brands.GetBrand(r.Context(), brandParam(r)); err != nil {
			writeHTML(w, http.StatusNotFound, p.page, answerPageData{Problem: messageOf(err)})
			return
		}
		writeHTML(w, http.StatusOK, p.page, answerPageData{Action: p.path(brandParam(r))})
	}
}

// takeAnswer applies the contact's answer, from the page's form or as JSON {"token","answer"}.
func (a *api) takeAnswer(p answerPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Token  string `json:"token"`
			Answer string `json:"answer"`
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		fromForm := mt == "application/x-www-form-urlencoded"
		if fromForm {
			body, err := readBody(r)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			form, err := url.ParseQuery(string(body))
			if err != nil {
				a.writeError(w, r, &httpError{http.StatusBadRequest, "invalid", "malformed form body"})
				return
			}
			in.Token, in.Answer = form.Get("token"), form.Get("answer")
		} else if err := decodeJSON(r, &in); err != nil {
			a.writeError(w, r, err)
			return
		}
		err := p.apply(r.Context(), brandParam(r), in.Token, in.Answer)
		if fromForm && wantsHTML(r) {
			page := answerPageData{Answered: in.Answer}
			status := http.StatusOK
			if err != nil {
				status, page.Problem, page.Answered = statusOf[gdpr.ErrorCode(err)], messageOf(err), ""
				if status == 0 || status == http.StatusInternalServerError {
					a.writeError(w, r, err)
					return
				}
			}
			writeHTML(w, status, p.page, page)
			return
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": p.status, "answer": in.Answer})
	}
}

func (a *api) invitationAnswers() answerPage {
	return answerPage{page: invitationTemplate, path: invitationPath, status: "answered",
		apply: func(ctx context.Context, brand gdpr.BrandID, token, answer string) error {
			return a.contacts.AnswerInvitation(ctx, brand, token, gdpr.InvitationAnswer(answer))
		}}
}

func (a *api) unsubscribeAnswers() answerPage {
	return answerPage{page: unsubscribeTemplate, path: unsubscribePath, status: "unsubscribed",
		apply: func(ctx context.Context, brand gdpr.BrandID, token, answer string) error {
			return a.contacts.Unsubscribe(ctx, brand, token, gdpr.UnsubscribeAnswer(answer))
		}}
}

func (a *api) programOptOutAnswers() answerPage {
	return answerPage{page: programOptOutTemplate, path: programOptOutPath, status: "opted_out",
		apply: func(ctx context.Context, brand gdpr.BrandID, token, answer string) error {
			return a.retention.ProgramOptOut(ctx, brand, token, answer)
		}}
}
