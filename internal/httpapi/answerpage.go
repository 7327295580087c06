package httpapi

import (
	"context"
	"mime"
	"net/http"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/templates"
)

// answerPage is a page that a link mailed to a contact opens, and the answer its form posts:
// the invitation (R-RET-5) and the unsubscribe page (R-CONSENT-7). Opening it changes nothing,
// since mail scanners fetch links. The token comes in the fragment, which no server or log
// sees; the page's one script (templates.PageScript, allowed by its hash) moves it into the
// form.
type answerPage struct {
	page  templates.Page
	path  func(gdpr.BrandID) string
	apply func(ctx context.Context, brand gdpr.BrandID, token, answer string) error
	// show fills in what the page shows beyond its form (the member who invites, a
	// one-click link's token); nil when nothing.
	show   func(r *http.Request, d *templates.PageData) error
	status string // the JSON answer's status
}

func (a *api) showAnswerPage(p answerPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := templates.PageData{Action: p.path(brandParam(r)), FromFragment: true}
		var err error
		if p.show != nil {
			err = p.show(r, &d)
		}
		a.answerWithPage(w, r, p.page, d, err, http.StatusOK)
	}
}

// takeAnswer applies the answer, from the page's form or as JSON {"token","answer"}.
func (a *api) takeAnswer(p answerPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in answerRequest
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		fromForm := mt == "application/x-www-form-urlencoded"
		if fromForm {
			form, err := readForm(r)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			in.Token, in.Answer = form.Get("token"), form.Get("answer")
		} else if err := decodeJSON(r, &in); err != nil {
			a.writeError(w, r, err)
			return
		}
		err := p.apply(r.Context(), brandParam(r), in.Token, in.Answer)
		if fromForm && wantsHTML(r) {
			a.answerWithPage(w, r, p.page, templates.PageData{Answered: in.Answer}, err, http.StatusOK)
			return
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pageAnswer{Status: p.status, Answer: in.Answer})
	}
}

func (a *api) invitationAnswers() answerPage {
	return answerPage{page: templates.PageInvitation, path: invitationPath, status: "answered",
		apply: func(ctx context.Context, brand gdpr.BrandID, token, answer string) error {
			return a.contacts.AnswerInvitation(ctx, brand, token, gdpr.InvitationAnswer(answer))
		},
		show: func(r *http.Request, d *templates.PageData) error {
			// The link names the member who invites by id; the page shows them as contacts
			// may see them (alias, else first name), and nothing for an id it cannot use.
			d.Member = a.contacts.InvitingMember(r.Context(), brandParam(r), r.URL.Query().Get("member"))
			return nil
		}}
}

func (a *api) unsubscribeAnswers() answerPage {
	return answerPage{page: templates.PageUnsubscribe, path: unsubscribePath, status: "unsubscribed",
		apply: func(ctx context.Context, brand gdpr.BrandID, token, answer string) error {
			return a.contacts.Unsubscribe(ctx, brand, token, gdpr.UnsubscribeAnswer(answer))
		},
		show: func(r *http.Request, d *templates.PageData) error {
			// A mail's List-Unsubscribe URL opened in a browser: its token, in the query,
			// can opt out from this member only; the page offers that.
			if !r.URL.Query().Has("token") {
				return nil
			}
			d.Token, d.FromFragment = r.URL.Query().Get("token"), false
			err := a.contacts.CheckOneClick(r.Context(), brandParam(r), d.Token)
			if err != nil {
				d.Token = ""
			}
			return err
		}}
}

func (a *api) programOptOutAnswers() answerPage {
	return answerPage{page: templates.PageProgramOptOut, path: programOptOutPath, status: "opted_out",
		apply: func(ctx context.Context, brand gdpr.BrandID, token, answer string) error {
			return a.retention.ProgramOptOut(ctx, brand, token, answer)
		}}
}
