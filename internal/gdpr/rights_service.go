package gdpr

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// requestExporter produces the export that answers a request (export_contract.go). Produce
// is idempotent per RequestID and may take long for a big subject.
type requestExporter interface {
	Produce(ctx context.Context, job ExportJob) (Download, error)
}

// RequestDeps are the ports of the RequestService.
type RequestDeps struct {
	Requests RequestStore
	Users    UserStore
	Claims   ClaimStore // subjects found by address digest; Idempotency-Keys
	Queue    Queue      // export jobs, erasure jobs of the block
	// Exporter produces exports. Optional: without one, access, portability and approved
	// brand-export requests stay in_progress with their job queued (the worker defers it as
	// unavailable), until a process with an exporter takes it.
	Exporter requestExporter
}

// RequestService takes data-subject requests and authorised brand exports, keeps the
// register, and carries out what each kind asks (R-RIGHTS-1, R-ACCESS-3).
type RequestService struct {
	core
	requests RequestStore
	users    UserStore
	claims   ClaimStore
	queue    Queue
	exporter requestExporter
}

// NewRequestService checks its dependencies.
func NewRequestService(c Core, d RequestDeps) (*RequestService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("RequestService", map[string]bool{"Requests": d.Requests != nil, "Users": d.Users != nil,
			"Claims": d.Claims != nil, "Queue": d.Queue != nil})
	}
	if err != nil {
		return nil, err
	}
	return &RequestService{core: cc, requests: d.Requests, users: d.Users, claims: d.Claims, queue: d.Queue, exporter: d.Exporter}, nil
}

var _ SubjectRequestHistory = (*RequestService)(nil)

// ClaimRequestKey is the claim of an Idempotency-Key: + the key's digest → the request id.
const ClaimRequestKey = "request-key:"

// requestKeyKept is how long an Idempotency-Key answers with its first request: a day, as
// long as clients retry.
const requestKeyKept = 24 * time.Hour

var errUnknownSubject = Errorf(CodeNotFound, "unknown subject")

// CreateRequest records a request and carries out what its kind does at once: a
// rectification, a restriction or an objection completes; an erasure blocks the subject for
// the grace period; an access or portability request queues its export; a brand export
// waits for its approvals. Bad input or an unknown subject records nothing. A retried POST
// with the same Idempotency-Key answers the first request (created reports whether this
// call made it), and finishes what a crash left undone.
func (s *RequestService) CreateRequest(ctx context.Context, brandID BrandID, in RequestInput) (r Request, created bool, err error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return Request{}, false, err
	}
	if err := in.validate(); err != nil {
		return Request{}, false, err
	}
	now := s.clock.Now()
	r = Request{BrandID: b.ID, ID: NewID(requestIDPrefix, now), Kind: in.Kind, Reference: in.Reference,
		Justification: in.Justification, RequestedBy: in.RequestedBy, Status: RequestReceived,
		ReceivedAt: now, DueAt: RequestDue(now)}
	if in.Changes != nil {
		if r.FieldsChanged, err = in.Changes.check(b, now); err != nil {
			return Request{}, false, err
		}
	}
	if in.Kind != RequestBrandExport {
		u, err := s.subject(ctx, b.ID, in)
		if err != nil {
			return Request{}, false, err
		}
		r.SubjectID = u.ID
	}
	if in.IdempotencyKey == "" {
		if r, err = s.requests.CreateRequest(ctx, r); err != nil {
			return Request{}, false, err
		}
		created = true
	} else if r, created, err = s.createOnce(ctx, b.ID, r, in.IdempotencyKey); err != nil {
		return Request{}, false, err
	}
	s.log.InfoContext(ctx, "data-subject request received", "brand", b.ID, "request", r.ID, "kind", string(r.Kind), "subject", r.SubjectID)
	r, err = s.advance(ctx, b, r, in.Changes)
	return r, created, err
}

// subject finds the user a request is about: by id, or by its address's digest through the
// address claims, as signup does, under every active hash-key version (a member claimed
// before a rotation is found until the re-keying doubled its claim). An erased user is no longer a subject of new requests.
func (s *RequestService) subject(ctx context.Context, brand BrandID, in RequestInput) (User, error) {
	id := in.MemberID
	if in.Email != "" {
		c, err := claimOf(ctx, s.claims, brand, keyed(ClaimEmail, s.hasher.EmailDigests(in.Email)))
		if errors.Is(err, ErrNotFound) {
			return User{}, errUnknownSubject
		}
		if err != nil {
			return User{}, err
		}
		id = c.Owner
	}
	u, err := s.users.GetUser(ctx, brand, id)
	if errors.Is(err, ErrNotFound) || (err == nil && u.Status == UserErased) {
		return User{}, errUnknownSubject
	}
	return u, err
}

// createOnce creates r unless its Idempotency-Key already made a request, which it answers
// instead. The key is claimed first, naming r's id, and r created second; a claim whose
// request does not exist is a create in progress, waited for, or, after ClaimLease, one that
// died: its id is fenced by a void request (create-only, so the dead creator can never create
// it later) and the key taken over at the version read.
func (s *RequestService) createOnce(ctx context.Context, brand BrandID, r Request, key string) (Request, bool, error) {
	claimKey := ClaimRequestKey + s.hasher.Digest(key)
	for range 8 {
		now := s.clock.Now()
		claim, err := s.claims.Claim(ctx, Claim{BrandID: brand, Key: claimKey, Owner: r.ID, CreatedAt: now, ExpiresAt: now.Add(requestKeyKept)})
		if err == nil {
			created, err := s.requests.CreateRequest(ctx, r)
			if errors.Is(err, ErrConflict) {
				continue // fenced by a retry that took us for dead: the key is its now
			}
			return created, err == nil, err
		}
		if !errors.Is(err, ErrConflict) {
			return Request{}, false, err
		}
		first, err := s.requests.GetRequest(ctx, brand, claim.Owner)
		switch {
		case err == nil && first.Status == RequestRefused && first.RefusedReason == RefusedAbandoned:
			if err := s.takeOver(ctx, r, claim, now); err != nil {
				return Request{}, false, err
			}
			continue
		case err == nil:
			if first.Kind != r.Kind || first.SubjectID != r.SubjectID || first.Reference != r.Reference {
				return Request{}, false, Errorf(CodeConflict, "this Idempotency-Key was used for another request")
			}
			return first, false, nil
		case !errors.Is(err, ErrNotFound):
			return Request{}, false, err
		case now.Sub(claim.CreatedAt) >= ClaimLease:
			if err := s.fence(ctx, r, claim); err != nil {
				return Request{}, false, err
			}
			continue
		}
		if err := s.wait(ctx, ClaimLease/30); err != nil {
			return Request{}, false, err
		}
	}
	return Request{}, false, Errorf(CodeUnavailable, "this Idempotency-Key is contended; retry")
}

// fence makes a dead creator's request id unusable with a void request, create-only: if
// the creator's request got there first, the next round reads it instead.
func (s *RequestService) fence(ctx context.Context, r Request, held Claim) error {
	void := r
	void.ID, void.Status, void.RefusedReason, void.CompletedAt, void.FieldsChanged = held.Owner, RequestRefused, RefusedAbandoned, r.ReceivedAt, nil
	if _, err := s.requests.CreateRequest(ctx, void); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	return nil
}

// takeOver gives a key whose request is fenced to r, at the version read: of concurrent
// retries, one wins and the others read its request in their next round.
func (s *RequestService) takeOver(ctx context.Context, r Request, held Claim, now time.Time) error {
	held.Owner, held.CreatedAt, held.ExpiresAt = r.ID, now, now.Add(requestKeyKept)
	if _, err := s.claims.ReplaceClaim(ctx, held); err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// advance carries a request as far as it goes now, from whatever status it was left in: the
// one step function of every kind, run by CreateRequest, by a retried POST, and by the daily
// pass over open requests, so that a crash at any point is finished by whichever comes next.
// changes are a rectification's values, which only its POST carries.
func (s *RequestService) advance(ctx context.Context, b Brand, r Request, changes *Rectification) (Request, error) {
	if r.Status.closed() {
		return r, nil
	}
	switch r.Kind {
	case RequestBrandExport:
		if r.Status == RequestReceived {
			return s.setStatus(ctx, r, func(r *Request) { r.Status = RequestAwaitingApproval })
		}
		if r.Status == RequestInProgress {
			return r, s.publishExport(ctx, r)
		}
		return r, nil
	case RequestAccess, RequestPortability:
		if r.Status == RequestReceived {
			var err error
			if r, err = s.setStatus(ctx, r, func(r *Request) { r.Status = RequestInProgress }); err != nil {
				return r, err
			}
		}
		return r, s.publishExport(ctx, r)
	case RequestErasure:
		return s.eraseSubject(ctx, b, r)
	case RequestRestriction, RequestObjection:
		return s.restrictSubject(ctx, b, r)
	case RequestRectification:
		if changes == nil {
			return r, nil // its values come only with its POST: a retry of it finishes it
		}
		return s.rectifySubject(ctx, b, r, *changes)
	}
	return r, nil
}

// setStatus changes a request under its version, reading it again on a conflict.
func (s *RequestService) setStatus(ctx context.Context, r Request, change func(*Request)) (Request, error) {
	out := r
	err := retry(ctx, func() error {
		cur, err := s.requests.GetRequest(ctx, r.BrandID, r.ID)
		if err != nil {
			return err
		}
		if cur.Status.closed() {
			out = cur
			return nil
		}
		change(&cur)
		out, err = s.requests.UpdateRequest(ctx, cur)
		return err
	})
	return out, err
}

// complete closes a request as completed at now.
func (s *RequestService) complete(ctx context.Context, r Request, now time.Time) (Request, error) {
	return s.setStatus(ctx, r, func(r *Request) { r.Status, r.CompletedAt = RequestCompleted, now })
}

// refuse closes a request as refused, with a reason code.
func (s *RequestService) refuse(ctx context.Context, r Request, reason string, now time.Time) (Request, error) {
	return s.setStatus(ctx, r, func(r *Request) { r.Status, r.RefusedReason, r.CompletedAt = RequestRefused, reason, now })
}

// GetRequest reads one request.
func (s *RequestService) GetRequest(ctx context.Context, brandID BrandID, id string) (Request, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return Request{}, err
	}
	return s.get(ctx, b.ID, id)
}

func (s *RequestService) get(ctx context.Context, brand BrandID, id string) (Request, error) {
	if !validRequestID(id) {
		return Request{}, Errorf(CodeNotFound, "unknown request")
	}
	r, err := s.requests.GetRequest(ctx, brand, id)
	if errors.Is(err, ErrNotFound) {
		return Request{}, Errorf(CodeNotFound, "unknown request")
	}
	return r, err
}

// MaxRequestPage bounds a page of the register.
const MaxRequestPage = 1000

// RegisterQuery selects a page of the register: requests received in [From, To) (either
// zero: unbounded), of Kind when set, after the request id After.
type RegisterQuery struct {
	From, To time.Time
	Kind     RequestKind
	After    string
	Limit    int
}

// ListRequests pages through the register, oldest first. It still answers after the
// brand's contract ended: the register outlives every subject in it.
func (s *RequestService) ListRequests(ctx context.Context, brandID BrandID, q RegisterQuery) ([]Request, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return nil, err
	}
	if q.Kind != "" && !q.Kind.Valid() {
		return nil, Errorf(CodeInvalid, "kind must be one of access, portability, rectification, restriction, objection, erasure, brand_export")
	}
	if q.Limit < 1 || q.Limit > MaxRequestPage {
		return nil, Errorf(CodeInvalid, "limit must be a number from 1 to %d", MaxRequestPage)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, Errorf(CodeInvalid, "from must be before to")
	}
	if q.After != "" && !validRequestID(q.After) {
		return nil, Errorf(CodeInvalid, "after must be a request id")
	}
	f := RequestFilter{After: q.After, Kind: q.Kind, Limit: q.Limit}
	if !q.From.IsZero() {
		// Ids sort by receipt: everything received at From or later comes after the largest
		// id of the millisecond before.
		if lo := requestIDBound(q.From); lo > f.After {
			f.After = predecessor(lo)
		}
	}
	if !q.To.IsZero() {
		f.Before = requestIDBound(q.To)
	}
	return s.requests.ListRequests(ctx, b.ID, f)
}

// predecessor is a string just below id in byte order, above every id smaller than id.
func predecessor(id string) string {
	return id[:len(id)-1] // a proper prefix sorts before id and after every smaller id of its length
}

// SubjectRequests lists the requests about one subject, oldest first: the subject's own
// export shows them (export_contract.go).
func (s *RequestService) SubjectRequests(ctx context.Context, brand BrandID, subjectID string) ([]RequestSummary, error) {
	rs, err := s.requests.RequestsOfSubject(ctx, brand, subjectID, MaxRequestPage)
	if err != nil {
		return nil, err
	}
	out := make([]RequestSummary, len(rs))
	for i, r := range rs {
		out[i] = RequestSummary{ID: r.ID, Kind: string(r.Kind), Status: string(r.Status), ReceivedAt: r.ReceivedAt, CompletedAt: r.CompletedAt}
	}
	return out, nil
}

// Approve records one approval of a brand export (R-ACCESS-3). The same approver again, or
// the same role again, is no second approval: it changes nothing. Once two distinct
// approvers have approved in the two roles, the export is asked for. Concurrent approvals
// all land: each is written under the version it read, and a conflict re-reads.
func (s *RequestService) Approve(ctx context.Context, brandID BrandID, id string, in ApprovalInput) (Request, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return Request{}, err
	}
	if err := in.validate(); err != nil {
		return Request{}, err
	}
	var out Request
	err = retry(ctx, func() error {
		r, err := s.get(ctx, b.ID, id)
		if err != nil {
			return err
		}
		out = r
		if r.Kind != RequestBrandExport {
			return Errorf(CodeConflict, "only a brand_export takes approvals")
		}
		if r.Status != RequestAwaitingApproval {
			return nil // approved already, or closed: nothing more to approve
		}
		for _, a := range r.Approvals {
			if a.Approver == in.Approver || a.Role == in.Role {
				return nil
			}
		}
		r.Approvals = append(r.Approvals, Approval{Approver: in.Approver, Role: in.Role, At: s.clock.Now()})
		if approved(r.Approvals) {
			r.Status = RequestInProgress
		}
		out, err = s.requests.UpdateRequest(ctx, r)
		return err
	})
	if err != nil {
		return Request{}, err
	}
	if out.Status == RequestInProgress {
		// Published after the write, and again by any later approval or the daily pass: the
		// job's id is the request's, so it is queued once.
		return out, s.publishExport(ctx, out)
	}
	return out, nil
}

// Lift ends the restriction or objection a request set (Art. 18(3)): the subject may be
// mailed again, though its withdrawn opt-ins stay withdrawn until it gives them again.
// Lifting again changes nothing.
func (s *RequestService) Lift(ctx context.Context, brandID BrandID, id string) (Request, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return Request{}, err
	}
	r, err := s.get(ctx, b.ID, id)
	if err != nil {
		return Request{}, err
	}
	if r.Kind != RequestRestriction && r.Kind != RequestObjection {
		return Request{}, Errorf(CodeConflict, "only a restriction or an objection can be lifted")
	}
	if r.Status != RequestCompleted {
		return Request{}, Errorf(CodeConflict, "this request has not restricted anything")
	}
	if !r.LiftedAt.IsZero() {
		return r, nil
	}
	err = s.changeSubject(ctx, b, r.SubjectID, func(u *User) error {
		if u.Restriction == nil || u.Restriction.RequestID != r.ID {
			return errUnchanged
		}
		u.Restriction = nil
		return nil
	})
	if err != nil && !errors.Is(err, errSubjectErased) {
		return Request{}, err
	}
	now := s.clock.Now()
	r, err = s.setLifted(ctx, r, now)
	if err == nil {
		s.log.InfoContext(ctx, "restriction lifted", "brand", b.ID, "request", r.ID, "subject", r.SubjectID)
	}
	return r, err
}

func (s *RequestService) setLifted(ctx context.Context, r Request, now time.Time) (Request, error) {
	out := r
	err := retry(ctx, func() error {
		cur, err := s.requests.GetRequest(ctx, r.BrandID, r.ID)
		if err != nil || !cur.LiftedAt.IsZero() {
			out = cur
			return err
		}
		cur.LiftedAt = now
		out, err = s.requests.UpdateRequest(ctx, cur)
		return err
	})
	return out, err
}

// RequestJob asks the request worker to produce the export that answers a request.
type RequestJob struct {
	BrandID   BrandID `json:"brandId"`
	RequestID string  `json:"requestId"`
}

// publishExport queues the export job of an in-progress request; the message id is the
// request's, so publishing it again (an approval retried, the daily pass) queues it once.
func (s *RequestService) publishExport(ctx context.Context, r Request) error {
	if r.Status != RequestInProgress || r.Download != nil {
		return nil
	}
	body, err := json.Marshal(RequestJob{BrandID: r.BrandID, RequestID: r.ID})
	if err != nil {
		return err
	}
	_, err = s.queue.Publish(ctx, QueueRequests, Message{ID: "export:" + r.ID, Body: body})
	return err
}

// errNoExporter defers an export job in a process without an exporter: unavailable, so the
// queue delivers it again later.
var errNoExporter = Errorf(CodeUnavailable, "no exporter is wired in this process")

// HandleRequestJob produces a request's export and records its download: the request
// worker. Delivery is at least once and Produce is idempotent per request, so a job
// delivered again produces the same export, and one whose request is done does nothing.
func (s *RequestService) HandleRequestJob(ctx context.Context, body []byte) error {
	var job RequestJob
	if err := decodeJob(body, &job); err != nil {
		return err
	}
	if !job.BrandID.Valid() || !validRequestID(job.RequestID) {
		return Errorf(CodeInvalid, "request job needs brandId and requestId")
	}
	r, err := s.requests.GetRequest(ctx, job.BrandID, job.RequestID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.Status != RequestInProgress || !r.Kind.exports() || r.Download != nil {
		return nil
	}
	if s.exporter == nil {
		return errNoExporter
	}
	ej := ExportJob{Brand: r.BrandID, RequestID: r.ID, Scope: ExportSubject, SubjectID: r.SubjectID}
	if r.Kind == RequestBrandExport {
		ej.Scope, ej.SubjectID = ExportBrand, ""
	}
	d, err := s.exporter.Produce(ctx, ej)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	r, err = s.setStatus(ctx, r, func(r *Request) {
		r.Download, r.Status, r.CompletedAt = &d, RequestCompleted, now
	})
	if err == nil {
		s.log.InfoContext(ctx, "data-subject request answered", "brand", r.BrandID, "request", r.ID, "kind", string(r.Kind))
	}
	return err
}
