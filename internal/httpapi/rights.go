package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// The data-subject requests and the register (R-RIGHTS-1, R-ACCESS-3).

// requestView is a request as the admin routes show it: the register's columns, no personal
// data beyond the subject's id.
type requestView struct {
	ID            string             `json:"id"`
	Kind          gdpr.RequestKind   `json:"kind"`
	Status        gdpr.RequestStatus `json:"status"`
	RefusedReason string             `json:"refusedReason,omitempty"`
	SubjectID     string             `json:"subjectId,omitempty"`
	Reference     string             `json:"reference,omitempty"`
	Justification string             `json:"justification,omitempty"`
	RequestedBy   string             `json:"requestedBy,omitempty"`
	ReceivedAt    time.Time          `json:"receivedAt"`
	DueAt         time.Time          `json:"dueAt"`
	CompletedAt   time.Time          `json:"completedAt,omitzero"`
	Approvals     []gdpr.Approval    `json:"approvals"`
	FieldsChanged []string           `json:"fieldsChanged,omitempty"`
	LiftedAt      time.Time          `json:"liftedAt,omitzero"`
	Download      *gdpr.Download     `json:"download,omitempty"`
}

func viewRequest(r gdpr.Request) requestView {
	v := requestView{ID: r.ID, Kind: r.Kind, Status: r.Status, RefusedReason: r.RefusedReason, SubjectID: r.SubjectID,
		Reference: r.Reference, Justification: r.Justification, RequestedBy: r.RequestedBy, ReceivedAt: r.ReceivedAt,
		DueAt: r.DueAt, CompletedAt: r.CompletedAt, Approvals: r.Approvals, FieldsChanged: r.FieldsChanged,
		LiftedAt: r.LiftedAt, Download: r.Download}
	if v.Approvals == nil {
		v.Approvals = []gdpr.Approval{}
	}
	return v
}

// errEmailNotRectifiable has its own code, so a client tells it from a malformed body.
var errEmailNotRectifiable = &httpError{http.StatusBadRequest, "email_not_rectifiable", gdpr.ErrEmailNotRectifiable.Message}

// createRequest: POST …/requests → 201 with the new request, or 200 with the one an earlier
// POST with the same Idempotency-Key made.
func (a *api) createRequest(w http.ResponseWriter, r *http.Request) {
	var in gdpr.RequestInput
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	in.IdempotencyKey = r.Header.Get("Idempotency-Key")
	req, created, err := a.requests.CreateRequest(r.Context(), brandParam(r), in)
	if errors.Is(err, gdpr.ErrEmailNotRectifiable) {
		err = errEmailNotRectifiable
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Location", "/api/admin/brands/"+string(req.BrandID)+"/requests/"+req.ID)
	writeJSON(w, status, viewRequest(req))
}

func (a *api) getRequest(w http.ResponseWriter, r *http.Request) {
	req, err := a.requests.GetRequest(r.Context(), brandParam(r), r.PathValue("id"))
	a.answerRequest(w, r, req, err)
}

func (a *api) approveRequest(w http.ResponseWriter, r *http.Request) {
	var in gdpr.ApprovalInput
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	req, err := a.requests.Approve(r.Context(), brandParam(r), r.PathValue("id"), in)
	a.answerRequest(w, r, req, err)
}

func (a *api) liftRequest(w http.ResponseWriter, r *http.Request) {
	if err := optionalEmptyBody(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	req, err := a.requests.Lift(r.Context(), brandParam(r), r.PathValue("id"))
	a.answerRequest(w, r, req, err)
}

func (a *api) answerRequest(w http.ResponseWriter, r *http.Request, req gdpr.Request, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewRequest(req))
}

// listRequests: the register, GET …/requests?from=&to=&kind=&after=&limit=, oldest first.
func (a *api) listRequests(w http.ResponseWriter, r *http.Request) {
	q, err := registerQuery(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	reqs, err := a.requests.ListRequests(r.Context(), brandParam(r), q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	views := make([]requestView, len(reqs))
	for i, req := range reqs {
		views[i] = viewRequest(req)
	}
	body := registerAnswer{Requests: views}
	if len(reqs) == q.Limit {
		body.Next = reqs[len(reqs)-1].ID
	}
	writeJSON(w, http.StatusOK, body)
}

// registerQuery reads the register's query parameters; messages name the parameter, never
// its value.
func registerQuery(r *http.Request) (gdpr.RegisterQuery, error) {
	v := r.URL.Query()
	q := gdpr.RegisterQuery{Kind: gdpr.RequestKind(v.Get("kind")), After: v.Get("after"), Limit: gdpr.MaxRequestPage}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		s := v.Get(p.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, gdpr.Errorf(gdpr.CodeInvalid, "%s must be an RFC 3339 time such as 2026-01-31T00:00:00Z", p.name)
		}
		*p.to = t
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > gdpr.MaxRequestPage {
			return q, gdpr.Errorf(gdpr.CodeInvalid, "limit must be a number from 1 to %d", gdpr.MaxRequestPage)
		}
		q.Limit = n
	}
	return q, nil
}
