package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// nopQueue accepts every job: the fuzz target watches the register, not the queue.
type nopQueue struct{}

func (nopQueue) Publish(context.Context, string, gdpr.Message) (string, error) { return "", nil }
func (nopQueue) PublishBatch(_ context.Context, _ string, ms []gdpr.Message) ([]string, error) {
	return make([]string, len(ms)), nil
}
func (nopQueue) Cancel(context.Context, string, string) error { return nil }

// FuzzRequestRoutes drives the request routes' bodies and the register's query through
// their handlers over an in-memory store with one member: whatever the input, nothing panics,
// the status is one the routes document, an error quotes nothing the client sent, and a
// refused request records nothing and leaves the member as it was (R-RIGHTS-1, R-OPS-1).
func FuzzRequestRoutes(f *testing.F) {
	for _, s := range []string{
		`{"kind":"access","memberId":"m_member"}`,
		`{"kind":"rectification","memberId":"m_member","changes":{"firstName":"Ada","address":{"city":"Paris"}}}`,
		`{"kind":"rectification","memberId":"m_member","changes":{"email":"someone@example.test"}}`,
		`{"kind":"rectification","memberId":"m_member","changes":{"lastName":""}}`,
		`{"kind":"restriction","email":"someone@example.test"}`,
		`{"kind":"brand_export","reference":"R-1","justification":"audit","requestedBy":"dpo"}`,
		`{"kind":"erasure","memberId":"m_member","kind":"access"}`,
		`{"approver":"claire","role":"brand_controller"}`, `{"approver":"","role":"ceo"}`,
		`{"kind":"objection","memberId":"someone@example.test"}`, `null`, `[]`, `{`, `{"changes":{"dateOfBirth":"1990-02-30"}}`,
	} {
		f.Add([]byte(s), "from=2031-01-01T00:00:00Z&kind=access")
	}
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		store := storetest.NewMemory()
		ctx := t.Context()
		h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, err := store.PutBrand(ctx, gdpr.Brand{ID: "b", Name: "B", Fields: gdpr.FieldRules{"lastName": gdpr.FieldRequired}}); err != nil {
			t.Fatal(err)
		}
		u, err := store.CreateUser(ctx, gdpr.User{BrandID: "b", ID: "m_member", Kind: gdpr.SubjectMember, Status: gdpr.UserActive,
			CreatedAt: now, FirstName: "Grace", LastName: "Hopper", Email: "grace@example.test"})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := gdpr.NewRequestService(gdpr.Core{Brands: store, Hasher: h}, gdpr.RequestDeps{Requests: store, Users: store, Claims: store, Queue: nopQueue{}})
		if err != nil {
			t.Fatal(err)
		}
		a := &api{requests: svc, log: slog.New(slog.DiscardHandler)}
		registered := func() int {
			rs, _ := store.ListRequests(ctx, "b", gdpr.RequestFilter{Limit: 1000})
			return len(rs)
		}

		r := httptest.NewRequest("POST", "/api/admin/brands/b/requests", bytes.NewReader(body))
		r.SetPathValue("brand", "b")
		w := httptest.NewRecorder()
		a.createRequest(w, r)
		switch {
		case w.Code == 201 || w.Code == 200:
		case slices.Contains([]int{400, 404, 409}, w.Code):
			requireNoClientString(t, body, w.Body.String())
			if registered() != 0 {
				t.Fatalf("a refused request was recorded: %q", body)
			}
			if got, _ := store.GetUser(ctx, "b", u.ID); got.Version != u.Version {
				t.Fatalf("a refused request changed the member: %q", body)
			}
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}

		r = httptest.NewRequest("POST", "/api/admin/brands/b/requests/x/approvals", bytes.NewReader(body))
		r.SetPathValue("brand", "b")
		r.SetPathValue("id", gdpr.NewID("r_", now))
		w = httptest.NewRecorder()
		a.approveRequest(w, r)
		if !slices.Contains([]int{400, 404}, w.Code) {
			t.Fatalf("approval of no request: status %d for %q", w.Code, body)
		}
		requireNoClientString(t, body, w.Body.String())

		r = httptest.NewRequest("GET", "/api/admin/brands/b/requests", nil)
		r.URL.RawQuery = query
		r.SetPathValue("brand", "b")
		w = httptest.NewRecorder()
		a.listRequests(w, r)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("register: status %d for query %q", w.Code, query)
		}
		if w.Code == 400 {
			requireNoClientString(t, []byte(`"`+query+`"`), w.Body.String())
		}
	})
}
