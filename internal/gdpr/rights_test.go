package gdpr_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// fakeExporter stands for the export half (export_contract.go): it records the jobs asked
// and hands back a download per request.
type fakeExporter struct {
	mu   sync.Mutex
	jobs []gdpr.ExportJob
	down bool // the export side is unavailable: every Produce fails for now
}

func (e *fakeExporter) Produce(_ context.Context, job gdpr.ExportJob) (gdpr.Download, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return gdpr.Download{}, gdpr.Errorf(gdpr.CodeUnavailable, "exports are unavailable")
	}
	e.jobs = append(e.jobs, job)
	return gdpr.Download{URL: "https://example.test/exports/" + job.RequestID, ExpiresAt: time.Date(2031, 1, 3, 0, 0, 0, 0, time.UTC)}, nil
}

// rightsWorld is the request service over the in-memory store, a recording queue and a
// fake exporter, on a test clock.
type rightsWorld struct {
	t        *testing.T
	store    *storetest.Memory
	queue    *recordingQueue
	exporter *fakeExporter
	mailer   *recordingMailer
	clock    *frozenClock
	svc      *gdpr.Services
	brand    gdpr.BrandID
}

var rightsEpoch = time.Date(2031, 1, 31, 10, 0, 0, 0, time.UTC)

func newRightsWorld(t *testing.T, exporter *fakeExporter) *rightsWorld {
	w := &rightsWorld{t: t, store: storetest.NewMemory(), queue: &recordingQueue{}, exporter: exporter,
		mailer: &recordingMailer{}, clock: &frozenClock{}, brand: storetest.NewBrandID()}
	w.clock.Set(rightsEpoch)
	p := gdpr.Platform{Store: w.store, Queue: w.queue, Mailer: w.mailer}
	if exporter != nil {
		p.Exporter = exporter
	}
	w.svc = wire(t, gdpr.Core{Clock: w.clock}, p)
	_, err := w.store.PutBrand(t.Context(), gdpr.Brand{ID: w.brand, Name: "Rights",
		Fields: gdpr.FieldRules{"lastName": gdpr.FieldRequired}})
	require.NoError(t, err)
	return w
}

// member creates an active member holding its address's claim, as signup leaves it.
func (w *rightsWorld) member(email string) gdpr.User {
	ctx := w.t.Context()
	u := gdpr.User{BrandID: w.brand, ID: gdpr.NewID("m_", rightsEpoch), Kind: gdpr.SubjectMember, Status: gdpr.UserActive,
		CreatedAt: rightsEpoch, FirstName: "Ada", LastName: "Lovelace", Email: email, Language: "en",
		OptIns: gdpr.OptIns{Newsletter: true, NewsletterAt: rightsEpoch, Events: true, EventsAt: rightsEpoch},
		Terms:  &gdpr.Terms{Version: "v1", AcceptedAt: rightsEpoch}}
	u, err := w.store.CreateUser(ctx, u)
	require.NoError(w.t, err)
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(w.t, err)
	_, err = w.store.Claim(ctx, gdpr.Claim{BrandID: w.brand, Key: gdpr.ClaimEmail + h.EmailDigest(email), Owner: u.ID, CreatedAt: rightsEpoch})
	require.NoError(w.t, err)
	return u
}

func (w *rightsWorld) create(in gdpr.RequestInput) (gdpr.Request, error) {
	r, _, err := w.svc.Requests.CreateRequest(w.t.Context(), w.brand, in)
	return r, err
}

func (w *rightsWorld) register() []gdpr.Request {
	rs, err := w.svc.Requests.ListRequests(w.t.Context(), w.brand, gdpr.RegisterQuery{Limit: gdpr.MaxRequestPage})
	require.NoError(w.t, err)
	return rs
}

func (w *rightsWorld) user(id string) gdpr.User {
	u, err := w.store.GetUser(w.t.Context(), w.brand, id)
	require.NoError(w.t, err)
	return u
}

// exportJobs are the request worker's messages queued so far.
func (w *rightsWorld) exportJobs() []gdpr.Message {
	w.queue.mu.Lock()
	defer w.queue.mu.Unlock()
	var out []gdpr.Message
	for _, m := range w.queue.msgs {
		if strings.HasPrefix(m.ID, "export:") {
			out = append(out, m)
		}
	}
	return out
}

func str(s string) *string { return &s }

// frozenClock stands still until set: times in the register are then exact.
type frozenClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *frozenClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *frozenClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestRequestDue_R_RIGHTS_1: one month after receipt, Art. 12(3), with a month that has no
// such day ending on its last day.
func TestRequestDue_R_RIGHTS_1(t *testing.T) {
	for _, tc := range []struct{ received, due string }{
		{"2031-01-15T10:00:00Z", "2031-02-15T10:00:00Z"},
		{"2031-01-31T10:00:00Z", "2031-02-28T10:00:00Z"},
		{"2032-01-31T10:00:00Z", "2032-02-29T10:00:00Z"}, // leap year
		{"2031-03-31T23:30:00Z", "2031-04-30T23:30:00Z"},
		{"2031-12-31T00:00:00Z", "2032-01-31T00:00:00Z"},
		{"2031-01-31T23:30:00-02:00", "2031-03-01T01:30:00Z"}, // 1 February 01:30 UTC
	} {
		t.Run(tc.received, func(t *testing.T) {
			r, _ := time.Parse(time.RFC3339, tc.received)
			want, _ := time.Parse(time.RFC3339, tc.due)
			require.Equal(t, want, gdpr.RequestDue(r))
		})
	}
}

// TestRectification_R_RIGHTS_1: the changes reach the user through signup's validation; the
// register keeps which fields changed, never their values; bad changes record nothing.
func TestRectification_R_RIGHTS_1(t *testing.T) {
	w := newRightsWorld(t, nil)
	u := w.member("ada@example.test")
	r, err := w.create(gdpr.RequestInput{Kind: gdpr.RequestRectification, MemberID: u.ID, RequestedBy: "dpo",
		Changes: &gdpr.Rectification{FirstName: str("  Augusta "), Language: str("fr"),
			Address: &gdpr.Address{City: "Paris", PostalCode: "75002"}}})
	require.NoError(t, err)
	require.Equal(t, gdpr.RequestCompleted, r.Status)
	require.Equal(t, []string{"firstName", "language", "address"}, r.FieldsChanged)
	got := w.user(u.ID)
	require.Equal(t, "Augusta", got.FirstName, "trimmed as signup trims")
	require.Equal(t, "fr", got.Language)
	require.Equal(t, "Paris", got.Address.City)
	doc, err := json.Marshal(w.register())
	require.NoError(t, err)
	require.NotContains(t, string(doc), "Augusta", "the register keeps no rectified value")
	require.NotContains(t, string(doc), "Paris")

	for name, c := range map[string]*gdpr.Rectification{
		"required_field_cleared":   {LastName: str(" ")},
		"language_not_a_tag":       {Language: str("French!")},
		"date_of_birth_in_future":  {DateOfBirth: &gdpr.Date{Year: 2099, Month: 1, Day: 1}},
		"control_character":        {Alias: str("a\x00b")},
		"nothing_to_change":        {},
		"address_street_too_long":  {Address: &gdpr.Address{Street: strings.Repeat("x", 201)}},
		"email_needs_confirmation": {Email: str("new@example.test")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := w.create(gdpr.RequestInput{Kind: gdpr.RequestRectification, MemberID: u.ID, Changes: c})
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "%v", err)
			require.Len(t, w.register(), 1, "a refused request records nothing")
			require.Equal(t, got, w.user(u.ID), "and changes nothing")
		})
	}
	_, err = w.create(gdpr.RequestInput{Kind: gdpr.RequestRectification, MemberID: u.ID, Changes: &gdpr.Rectification{Email: str("x@example.test")}})
	require.ErrorIs(t, err, gdpr.ErrEmailNotRectifiable)
}

// TestRequestSubject_R_RIGHTS_1: a subject named by address is found through its claim; an
// unknown one is 404 and recorded nowhere; bad input is 400.
func TestRequestSubject_R_RIGHTS_1(t *testing.T) {
	w := newRightsWorld(t, &fakeExporter{})
	u := w.member("grace@example.test")
	r, err := w.create(gdpr.RequestInput{Kind: gdpr.RequestAccess, Email: " Grace@Example.test"})
	require.NoError(t, err)
	require.Equal(t, u.ID, r.SubjectID)
	require.Equal(t, gdpr.RequestInProgress, r.Status)
	require.Equal(t, gdpr.RequestDue(rightsEpoch), r.DueAt)
	for _, in := range []gdpr.RequestInput{
		{Kind: gdpr.RequestAccess, Email: "nobody@example.test"},
		{Kind: gdpr.RequestAccess, MemberID: "m_unknown"},
		{Kind: gdpr.RequestErasure, MemberID: strings.Repeat("m", 65)},
	} {
		_, err := w.create(in)
		require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err))
	}
	for _, in := range []gdpr.RequestInput{
		{Kind: "forget_me", MemberID: u.ID},
		{Kind: gdpr.RequestAccess},
		{Kind: gdpr.RequestAccess, MemberID: u.ID, Email: "grace@example.test"},
		{Kind: gdpr.RequestAccess, Email: "not an address"},
		{Kind: gdpr.RequestAccess, MemberID: u.ID, Changes: &gdpr.Rectification{FirstName: str("G")}},
		{Kind: gdpr.RequestBrandExport, Reference: "ref"},
		{Kind: gdpr.RequestBrandExport, Reference: "ref", Justification: "why", MemberID: u.ID},
		{Kind: gdpr.RequestAccess, MemberID: u.ID, Reference: strings.Repeat("r", 201)},
		{Kind: gdpr.RequestAccess, MemberID: u.ID, IdempotencyKey: "with space"},
	} {
		_, err := w.create(in)
		require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "%+v", in)
	}
	require.Len(t, w.register(), 1)
	_, _, err = w.svc.Requests.CreateRequest(t.Context(), "no-such-brand", gdpr.RequestInput{Kind: gdpr.RequestAccess, MemberID: u.ID})
	require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err))
}

// TestRestrictionAndObjection_R_RIGHTS_1: the opt-ins are withdrawn, the user restricted,
// mail to it suppressed; lifting ends the restriction, once.
func TestRestrictionAndObjection_R_RIGHTS_1(t *testing.T) {
	for _, kind := range []gdpr.RequestKind{gdpr.RequestRestriction, gdpr.RequestObjection} {
		t.Run(string(kind), func(t *testing.T) {
			w := newRightsWorld(t, nil)
			u := w.member("linus@example.test")
			r, err := w.create(gdpr.RequestInput{Kind: kind, MemberID: u.ID})
			require.NoError(t, err)
			require.Equal(t, gdpr.RequestCompleted, r.Status)
			got := w.user(u.ID)
			require.Equal(t, gdpr.OptIns{}, got.OptIns, "communication opt-ins withdrawn")
			require.Equal(t, &gdpr.Restriction{Kind: kind, RequestID: r.ID, Since: rightsEpoch}, got.Restriction)

			job, err := json.Marshal(gdpr.MailJob{ID: "mail_1", BrandID: w.brand, Kind: gdpr.MailAccountExists, UserID: u.ID})
			require.NoError(t, err)
			require.NoError(t, w.svc.Mail.HandleMailJob(t.Context(), job))
			require.Empty(t, w.mailer.sent, "a restricted subject gets no mail")

			lifted, err := w.svc.Requests.Lift(t.Context(), w.brand, r.ID)
			require.NoError(t, err)
			require.Equal(t, rightsEpoch, lifted.LiftedAt)
			require.Nil(t, w.user(u.ID).Restriction)
			require.Equal(t, gdpr.OptIns{}, w.user(u.ID).OptIns, "withdrawn opt-ins stay withdrawn")
			again, err := w.svc.Requests.Lift(t.Context(), w.brand, r.ID)
			require.NoError(t, err)
			require.Equal(t, lifted.Version, again.Version, "lifting again writes nothing")
		})
	}
}

// TestRestrictionHoldsTheRetentionsErasure_R_RIGHTS_1: a restricted member (Art. 18) is only
// stored: long past its inactivity mark, no warning and no erasure is scheduled, and a job
// queued before the restriction erases nothing. An objection (Art. 21) holds nothing. Once
// the restriction is lifted the schedule resumes with its two warnings (R-RET-1).
func TestRestrictionHoldsTheRetentionsErasure_R_RIGHTS_1(t *testing.T) {
	for _, kind := range []gdpr.RequestKind{gdpr.RequestRestriction, gdpr.RequestObjection} {
		t.Run(string(kind), func(t *testing.T) {
			w := newRightsWorld(t, nil)
			u := w.member("grace@example.test")
			b, err := w.store.GetBrand(t.Context(), w.brand)
			require.NoError(t, err)
			before := gdpr.Review(w.user(u.ID), b)
			require.Equal(t, gdpr.ActionWarn1, before.Kind)
			r, err := w.create(gdpr.RequestInput{Kind: kind, MemberID: u.ID})
			require.NoError(t, err)
			got := w.user(u.ID)
			late := rightsEpoch.AddDate(5, 0, 0) // far past any inactivity mark
			if kind == gdpr.RequestObjection {
				require.Equal(t, before, gdpr.Review(got, b), "an objection changes no schedule")
				return
			}
			require.Equal(t, gdpr.Action{}, gdpr.Review(got, b), "restricted: stored only")
			require.True(t, got.NextReviewAt.IsZero(), "out of the due index while restricted")

			// A warning-less erasure job, as one queued before the restriction would be.
			job, err := json.Marshal(gdpr.ErasureJob{BrandID: w.brand, SubjectKind: gdpr.SubjectMember, SubjectID: u.ID,
				Rule: gdpr.RuleMemberInactivity, DueAt: late})
			require.NoError(t, err)
			w.clock.Set(late)
			require.NoError(t, w.svc.Erasure.HandleErasureJob(t.Context(), job))
			require.Equal(t, gdpr.UserActive, w.user(u.ID).Status, "the worker decides again and erases nothing")

			_, err = w.svc.Requests.Lift(t.Context(), w.brand, r.ID)
			require.NoError(t, err)
			lifted := w.user(u.ID)
			require.Equal(t, gdpr.ActionWarn1, gdpr.Review(lifted, b).Kind, "lifted: the first warning comes first")
			require.False(t, lifted.NextReviewAt.IsZero(), "back in the due index")
		})
	}
}

// TestBrandExportNeedsTwoApprovals_R_ACCESS_3: no export is asked for until two distinct
// approvers in the two roles approve; a repeated approver or role is no approval.
func TestBrandExportNeedsTwoApprovals_R_ACCESS_3(t *testing.T) {
	exp := &fakeExporter{}
	w := newRightsWorld(t, exp)
	ctx := t.Context()
	r, err := w.create(gdpr.RequestInput{Kind: gdpr.RequestBrandExport, Reference: "EXP-1", Justification: "audit", RequestedBy: "brand support"})
	require.NoError(t, err)
	require.Equal(t, gdpr.RequestAwaitingApproval, r.Status)
	approve := func(who string, role gdpr.ApprovalRole) gdpr.Request {
		r, err := w.svc.Requests.Approve(ctx, w.brand, r.ID, gdpr.ApprovalInput{Approver: who, Role: role})
		require.NoError(t, err)
		return r
	}
	r = approve("claire", gdpr.ApproverBrandController)
	require.Equal(t, gdpr.RequestAwaitingApproval, r.Status)
	require.Len(t, approve("claire", gdpr.ApproverBrandController).Approvals, 1, "the same approval again is no second one")
	require.Len(t, approve("claire", gdpr.ApproverDPO).Approvals, 1, "one approver cannot fill both roles")
	require.Len(t, approve("dora", gdpr.ApproverBrandController).Approvals, 1, "one role cannot approve twice")
	require.Empty(t, w.exportJobs(), "no data leaves before both approvals")
	require.Empty(t, exp.jobs)

	r = approve("dora", gdpr.ApproverDPO)
	require.Equal(t, gdpr.RequestInProgress, r.Status)
	require.Len(t, r.Approvals, 2)
	jobs := w.exportJobs()
	require.Len(t, jobs, 1)
	require.NoError(t, w.svc.Requests.HandleRequestJob(ctx, jobs[0].Body))
	require.Equal(t, []gdpr.ExportJob{{Brand: w.brand, RequestID: r.ID, Scope: gdpr.ExportBrand}}, exp.jobs)
	done, err := w.svc.Requests.GetRequest(ctx, w.brand, r.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.RequestCompleted, done.Status)
	require.Equal(t, "https://example.test/exports/"+r.ID, done.Download.URL)
	require.NoError(t, w.svc.Requests.HandleRequestJob(ctx, jobs[0].Body), "a redelivered job")
	require.Len(t, exp.jobs, 1, "finds its request answered and produces nothing more")
}

// TestConcurrentApprovalsBothLand_R_ACCESS_3: the two approvals of a brand export, sent at
// once, both land (each written under the version it read, re-read on a conflict), and the
// export is asked for; the same again with each approval sent many times at once.
func TestConcurrentApprovalsBothLand_R_ACCESS_3(t *testing.T) {
	for round := range 20 {
		w := newRightsWorld(t, &fakeExporter{})
		r, err := w.create(gdpr.RequestInput{Kind: gdpr.RequestBrandExport, Reference: fmt.Sprint("EXP-", round), Justification: "audit"})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for i := range 6 {
			in := gdpr.ApprovalInput{Approver: "claire", Role: gdpr.ApproverBrandController}
			if i%2 == 1 {
				in = gdpr.ApprovalInput{Approver: "dora", Role: gdpr.ApproverDPO}
			}
			wg.Go(func() {
				_, err := w.svc.Requests.Approve(t.Context(), w.brand, r.ID, in)
				require.NoError(t, err)
			})
		}
		wg.Wait()
		got, err := w.svc.Requests.GetRequest(t.Context(), w.brand, r.ID)
		require.NoError(t, err)
		require.Equal(t, gdpr.RequestInProgress, got.Status)
		require.Len(t, got.Approvals, 2)
		ids := map[string]bool{}
		for _, m := range w.exportJobs() {
			ids[m.ID] = true
		}
		require.Equal(t, map[string]bool{"export:" + r.ID: true}, ids, "one job, whoever published it")
	}
}

// TestAccessRequestExport_R_RIGHTS_1: an access request queues its export; the worker
// produces it through the exporter and records the download; without an exporter the job
// is deferred as unavailable and the request stays in progress.
func TestAccessRequestExport_R_RIGHTS_1(t *testing.T) {
	for _, kind := range []gdpr.RequestKind{gdpr.RequestAccess, gdpr.RequestPortability} {
		t.Run(string(kind), func(t *testing.T) {
			exp := &fakeExporter{}
			w := newRightsWorld(t, exp)
			u := w.member("ken@example.test")
			r, err := w.create(gdpr.RequestInput{Kind: kind, MemberID: u.ID})
			require.NoError(t, err)
			jobs := w.exportJobs()
			require.Len(t, jobs, 1)
			require.NoError(t, w.svc.Requests.HandleRequestJob(t.Context(), jobs[0].Body))
			require.Equal(t, []gdpr.ExportJob{{Brand: w.brand, RequestID: r.ID, Scope: gdpr.ExportSubject, SubjectID: u.ID}}, exp.jobs)
			got, err := w.svc.Requests.GetRequest(t.Context(), w.brand, r.ID)
			require.NoError(t, err)
			require.Equal(t, gdpr.RequestCompleted, got.Status)
			require.Equal(t, rightsEpoch, got.CompletedAt)
			hist, err := w.svc.Requests.SubjectRequests(t.Context(), w.brand, u.ID)
			require.NoError(t, err)
			require.Equal(t, []gdpr.RequestSummary{{ID: r.ID, Kind: string(kind), Status: "completed", ReceivedAt: rightsEpoch, CompletedAt: rightsEpoch}}, hist)
		})
	}
	t.Run("exports_unavailable", func(t *testing.T) {
		w := newRightsWorld(t, &fakeExporter{down: true})
		u := w.member("ken@example.test")
		r, err := w.create(gdpr.RequestInput{Kind: gdpr.RequestAccess, MemberID: u.ID})
		require.NoError(t, err)
		err = w.svc.Requests.HandleRequestJob(t.Context(), w.exportJobs()[0].Body)
		require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))
		got, err := w.svc.Requests.GetRequest(t.Context(), w.brand, r.ID)
		require.NoError(t, err)
		require.Equal(t, gdpr.RequestInProgress, got.Status)
	})
}

// TestIdempotencyKey_R_RIGHTS_1: concurrent identical POSTs with one Idempotency-Key make
// one request, which every one of them answers; the key with another request is refused.
func TestIdempotencyKey_R_RIGHTS_1(t *testing.T) {
	w := newRightsWorld(t, &fakeExporter{})
	u := w.member("mary@example.test")
	in := gdpr.RequestInput{Kind: gdpr.RequestAccess, MemberID: u.ID, Reference: "case-7", IdempotencyKey: "key-0001"}
	const n = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		created int
	)
	for range n {
		wg.Go(func() {
			r, made, err := w.svc.Requests.CreateRequest(t.Context(), w.brand, in)
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			ids[r.ID]++
			if made {
				created++
			}
		})
	}
	wg.Wait()
	require.Len(t, ids, 1, "every answer names the one request")
	require.Equal(t, 1, created)
	require.Len(t, w.register(), 1)
	other := in
	other.Kind = gdpr.RequestErasure
	_, _, err := w.svc.Requests.CreateRequest(t.Context(), w.brand, other)
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err))
	require.Len(t, w.register(), 1)
}

// TestRegisterFilters_R_RIGHTS_1: the register pages by receipt, with from, to and kind.
func TestRegisterFilters_R_RIGHTS_1(t *testing.T) {
	w := newRightsWorld(t, &fakeExporter{})
	u := w.member("alan@example.test")
	var ids []string
	for i, kind := range []gdpr.RequestKind{gdpr.RequestAccess, gdpr.RequestObjection, gdpr.RequestAccess, gdpr.RequestPortability} {
		w.clock.Set(rightsEpoch.Add(time.Duration(i) * 24 * time.Hour))
		r, err := w.create(gdpr.RequestInput{Kind: kind, MemberID: u.ID})
		require.NoError(t, err)
		ids = append(ids, r.ID)
	}
	list := func(q gdpr.RegisterQuery) []string {
		if q.Limit == 0 {
			q.Limit = gdpr.MaxRequestPage
		}
		rs, err := w.svc.Requests.ListRequests(t.Context(), w.brand, q)
		require.NoError(t, err)
		out := []string{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	day := 24 * time.Hour
	require.Equal(t, ids, list(gdpr.RegisterQuery{}))
	require.Equal(t, ids[1:3], list(gdpr.RegisterQuery{From: rightsEpoch.Add(day), To: rightsEpoch.Add(3 * day)}))
	require.Equal(t, ids[1:], list(gdpr.RegisterQuery{From: rightsEpoch.Add(day)}))
	require.Equal(t, []string{ids[0], ids[2]}, list(gdpr.RegisterQuery{Kind: gdpr.RequestAccess}))
	require.Equal(t, ids[1:3], list(gdpr.RegisterQuery{After: ids[0], Limit: 2}))
	for _, q := range []gdpr.RegisterQuery{{Kind: "other"}, {From: rightsEpoch, To: rightsEpoch}, {After: "m_x"}, {Limit: gdpr.MaxRequestPage + 1}} {
		if q.Limit == 0 {
			q.Limit = 1
		}
		_, err := w.svc.Requests.ListRequests(t.Context(), w.brand, q)
		require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "%+v", q)
	}
}

// FuzzRequestJob feeds the request worker any queue message: it never panics, refuses what
// is not a request job as invalid, and produces an export only for an in-progress request of
// its brand.
func FuzzRequestJob(f *testing.F) {
	for _, s := range []string{`{"brandId":"b","requestId":"r_00000000000000000000000000"}`, `{"brandId":"b"}`,
		`{"brandId":"b","requestId":"r_x","extra":1}`, `null`, `[`, `{"brandId":"` + strings.Repeat("a", 300) + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		exp := &fakeExporter{}
		w := newRightsWorld(t, exp)
		err := w.svc.Requests.HandleRequestJob(t.Context(), body)
		if err != nil && gdpr.ErrorCode(err) != gdpr.CodeInvalid {
			t.Fatalf("unexpected error %v for %q", err, body)
		}
		if len(exp.jobs) != 0 {
			t.Fatalf("an export produced for no request: %q", body)
		}
	})
}
