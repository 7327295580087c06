package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"popsell-gdpr/internal/gdpr"
)

// memberView is what admin routes answer about a member: its state, no personal data.
type memberView struct {
	ID           string          `json:"id"`
	Role         gdpr.Role       `json:"role"`
	Status       gdpr.UserStatus `json:"status"`
	Block        *gdpr.Block     `json:"block,omitempty"`
	NextReviewAt string          `json:"nextReviewAt,omitempty"`
}

func viewMember(u gdpr.User) memberView {
	v := memberView{ID: u.ID, Role: u.Role, Status: u.Status, Block: u.Block}
	if v.Block != nil {
		b := *v.Block
		b.JobRef = ""
		v.Block = &b
	}
	if !u.NextReviewAt.IsZero() {
		v.NextReviewAt = u.NextReviewAt.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	return v
}

func (a *api) blockMember(w http.ResponseWriter, r *http.Request) {
	var in blockRequest
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Reason == gdpr.ReasonSSODeleted {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeInvalid, "reason must be unsubscribed or end_of_contract"))
		return
	}
	u, err := a.retention.BlockMember(r.Context(), brandParam(r), r.PathValue("id"), in.Reason)
	a.answerMember(w, r, u, err)
}

func (a *api) restoreMember(w http.ResponseWriter, r *http.Request) {
	if err := optionalEmptyBody(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	u, err := a.retention.RestoreMember(r.Context(), brandParam(r), r.PathValue("id"))
	a.answerMember(w, r, u, err)
}

func (a *api) memberActivity(w http.ResponseWriter, r *http.Request) {
	var in memberActivityRequest
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	u, err := a.retention.RecordActivity(r.Context(), brandParam(r), r.PathValue("id"), in.Kind)
	a.answerMember(w, r, u, err)
}

func (a *api) answerMember(w http.ResponseWriter, r *http.Request, u gdpr.User, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewMember(u))
}

func (a *api) endContract(w http.ResponseWriter, r *http.Request) {
	a.changeBrand(w, r, a.retention.EndContract)
}

// suspendProgram: R-ERASE-8.
func (a *api) suspendProgram(w http.ResponseWriter, r *http.Request) {
	a.changeBrand(w, r, a.retention.SuspendProgram)
}

// relaunchProgram: R-ERASE-8.
func (a *api) relaunchProgram(w http.ResponseWriter, r *http.Request) {
	a.changeBrand(w, r, a.retention.RelaunchProgram)
}

// changeBrand answers an admin's change of a brand's status: no body (or an empty object),
// the brand as it stands after.
func (a *api) changeBrand(w http.ResponseWriter, r *http.Request, change func(context.Context, gdpr.BrandID) (gdpr.Brand, error)) {
	if err := optionalEmptyBody(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	b, err := change(r.Context(), brandParam(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewBrand(b))
}

func (a *api) listErasures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 1000
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			a.writeError(w, r, gdpr.Errorf(gdpr.CodeInvalid, "limit must be a number from 1 to 1000"))
			return
		}
		limit = n
	}
	recs, err := a.erasure.ListErasures(r.Context(), brandParam(r), q.Get("after"), limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if recs == nil {
		recs = []gdpr.ErasureRecord{}
	}
	body := erasuresAnswer{Erasures: recs}
	if len(recs) == limit {
		body.Next = recs[len(recs)-1].ID
	}
	writeJSON(w, http.StatusOK, body)
}

// optionalEmptyBody accepts no body or an empty JSON object, for routes that need no input.
func optionalEmptyBody(r *http.Request) error {
	var in struct{}
	if err := decodeJSON(r, &in); err != nil && !errors.Is(err, errEmptyBody) {
		return err
	}
	return nil
}
