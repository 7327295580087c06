package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/triggers"
)

// fakeMailjet speaks the Send API v3.1 from the wire contract's fixtures: it answers each call
// with the next scripted reply (success once the script is spent) and keeps what it accepted.
type fakeMailjet struct {
	*httptest.Server
	mu       sync.Mutex
	script   []string // fixture names, answered in order
	accepted []sentMessage
	calls    int
}

type sentMessage struct {
	To       string
	Text     string
	CustomID string
	Template int64
	From     string
}

func newFakeMailjet(t *testing.T) *fakeMailjet {
	f := &fakeMailjet{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/v3.1/send", r.URL.Path)
		user, pass, ok := r.BasicAuth()
		require.True(t, ok && user == "mj-public" && pass == "mj-private", "the API keys as basic auth")
		var req struct {
			Messages []struct {
				From       struct{ Email string }
				To         []struct{ Email string }
				TextPart   string
				CustomID   string
				TemplateID int64
			}
		}
		body, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(body, &req))
		require.Len(t, req.Messages, 1, "one message per call")
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls++
		reply := "send-v31-response-success.json"
		if len(f.script) > 0 {
			reply, f.script = f.script[0], f.script[1:]
		}
		status := map[string]int{
			"send-v31-response-success.json": 200, "send-v31-response-429.html": 429,
			"send-v31-response-5xx.json": 500, "send-v31-response-error.json": 400,
			"send-v31-response-error-global.json": 400,
		}[reply]
		if status == 200 {
			m := req.Messages[0]
			f.accepted = append(f.accepted, sentMessage{To: m.To[0].Email, Text: m.TextPart, CustomID: m.CustomID, Template: m.TemplateID, From: m.From.Email})
		}
		if strings.HasSuffix(reply, ".html") {
			w.Header().Set("Content-Type", "text/html")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, mailjetFixture(t, reply))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMailjet) then(replies ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, replies...)
}

func (f *fakeMailjet) sentTo(addr string) []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentMessage
	for _, m := range f.accepted {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

func mailjetEnv(f *fakeMailjet) map[string]string {
	return map[string]string{
		config.EnvMailjetPublic: "mj-public", config.EnvMailjetPrivate: "mj-private",
		config.EnvMailjetBaseURL: f.URL + "/v3", config.EnvMailFrom: "no-reply@popsell.example",
	}
}

var linkToken = regexp.MustCompile(`token=([A-Za-z0-9_-]{43})`)

// waitSent waits until the fake accepted n mails to addr, moving the service clock on so the
// queue's retry backoff (kept on that clock) elapses without waiting on the wall clock.
func (a *testApp) waitSent(t *testing.T, f *fakeMailjet, addr string, n int) []sentMessage {
	t.Helper()
	for {
		if got := f.sentTo(addr); len(got) >= n {
			return got
		}
		a.setClock(t, a.App.Clock.Now().Add(10*time.Minute))
		select {
		case <-t.Context().Done():
			t.Fatal("the mail never reached Mailjet")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startMailjetApp starts the handler on a backend with its mail going to a Mailjet fake.
func startMailjetApp(t *testing.T, be backend) (*fakeMailjet, *testApp) {
	f := newFakeMailjet(t)
	env := mailjetEnv(f)
	for k, v := range be.env(t) {
		env[k] = v
	}
	return f, startApp(t, env)
}

// TestMailjetDelivery sends the signup mails through the real SDK against a Mailjet fake, on
// both stores (issue #11): signup → mail → confirm, retries on 429 and 5xx losing nothing,
// dead-letter on a 4xx, a redelivered job sent once.
func TestMailjetDelivery(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			f, app := startMailjetApp(t, be)
			require.Empty(t, app.App.OutboxDir, "no file outbox once Mailjet is configured")
			app.putBrand("acme", map[string]any{"mail": map[string]any{"from": map[string]string{"email": "hello@acme.example", "name": "Acme"}}})

			t.Run("signup_mail_confirm", func(t *testing.T) {
				p := newFakePerson()
				require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
				m := app.waitSent(t, f, p.Email, 1)[0]
				require.Equal(t, "hello@acme.example", m.From, "the brand's sender")
				require.True(t, strings.HasPrefix(m.CustomID, "mail_"), "the job id rides along as CustomID")
				tok := linkToken.FindStringSubmatch(m.Text)
				require.NotNil(t, tok, "the confirmation link is in the text part")
				res := app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": tok[1]}, nil)
				require.Equal(t, 200, res.Status, "%s", res.Body)
			})
			t.Run("429_and_5xx_are_retried_and_nothing_is_lost", func(t *testing.T) {
				f.then("send-v31-response-429.html", "send-v31-response-5xx.json")
				p := newFakePerson()
				require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
				require.Len(t, app.waitSent(t, f, p.Email, 1), 1)
			})
			t.Run("a_4xx_dead_letters_the_job_with_ids_only", func(t *testing.T) {
				f.then("send-v31-response-error.json")
				p := newFakePerson()
				require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
				for {
					res := app.admin("GET", "/api/admin/queues", nil)
					var body struct {
						Queues map[string]struct{ DeadLettered int }
					}
					require.NoError(t, json.Unmarshal(res.Body, &body))
					if body.Queues["gdpr-mail"].DeadLettered == 1 {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				require.Empty(t, f.sentTo(p.Email))
				require.Contains(t, app.logs.String(), `"msg":"mail undeliverable"`)
				require.NotContains(t, app.logs.String(), p.Email)
				// Mailjet refused the address itself (mj-0013, To[0].Email): the person's
				// pending account says so (issue 21), and no resend can reach it (R-MAIL-3).
				u, found := app.userByAddress("acme", p.Email)
				require.True(t, found)
				require.Equal(t, gdpr.EmailUndeliverable, u.EmailStatus)
			})
			t.Run("a_refusal_of_the_request_marks_nobody", func(t *testing.T) {
				f.then("send-v31-response-error-global.json") // mj-0002: the request, not the address
				before := queueCounts(t, app)["gdpr-mail"].DeadLettered
				p := newFakePerson()
				require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
				for queueCounts(t, app)["gdpr-mail"].DeadLettered == before {
					require.NoError(t, t.Context().Err(), "the refused job was never dead-lettered")
					time.Sleep(5 * time.Millisecond)
				}
				u, found := app.userByAddress("acme", p.Email)
				require.True(t, found)
				require.Equal(t, gdpr.EmailOK, u.EmailStatus)
			})
			t.Run("a_dead_letter_is_listed_and_replayed", func(t *testing.T) {
				// Mailjet fails every delivery until the queue gives up; the operator lists the
				// dead letter by ids, reason and times, then puts it back once Mailjet answers.
				outage := make([]string, 10)
				for i := range outage {
					outage[i] = "send-v31-response-5xx.json"
				}
				f.then(outage...)
				before := queueCounts(t, app)["gdpr-mail"].DeadLettered
				p := newFakePerson()
				require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
				for {
					c := queueCounts(t, app)["gdpr-mail"]
					if c.DeadLettered > before {
						break
					}
					if c.Ready == 0 && c.InFlight == 0 && c.Scheduled > 0 {
						// One retry's backoff (at most 5 minutes) per step: the confirmation
						// link stays valid, so the replayed job still has a mail to send.
						app.setClock(t, app.App.Clock.Now().Add(5*time.Minute))
					}
					time.Sleep(5 * time.Millisecond)
				}
				require.Empty(t, f.sentTo(p.Email))
				res := app.admin("GET", "/api/admin/queues/gdpr-mail/deadletters", nil)
				require.Equal(t, 200, res.Status, "%s", res.Body)
				require.NotContains(t, string(res.Body), p.Email)
				var listed struct {
					DeadLetters []struct{ Ref, ID, LastError string }
				}
				require.NoError(t, json.Unmarshal(res.Body, &listed))
				require.Len(t, listed.DeadLetters, before+1)
				dl := listed.DeadLetters[before] // oldest first
				require.True(t, strings.HasPrefix(dl.ID, "mail_"), "the job id, no body")
				require.NotEmpty(t, dl.LastError)
				require.Equal(t, 404, app.admin("GET", "/api/admin/queues/no-such-queue/deadletters", nil).Status)
				require.Equal(t, 200, app.admin("POST", "/api/admin/queues/gdpr-mail/deadletters/"+dl.Ref+"/replay", nil).Status)
				for len(f.sentTo(p.Email)) == 0 { // due now: no clock to move
					require.NoError(t, t.Context().Err(), "the replayed job never sent its mail")
					time.Sleep(5 * time.Millisecond)
				}
				require.Equal(t, 404, app.admin("POST", "/api/admin/queues/gdpr-mail/deadletters/"+dl.Ref+"/replay", nil).Status,
					"a replayed dead letter is no longer one")
			})
			t.Run("a_redelivered_job_sends_once", func(t *testing.T) {
				p := newFakePerson()
				require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
				sent := app.waitSent(t, f, p.Email, 1)
				// Mailjet has the mail; the sender records that it did only after Mailjet
				// answered. The redeliveries below come after that record, as the host's would:
				// a message is redelivered once its first delivery ended.
				app.waitIdle()
				users, err := app.App.Store.ListUsers(t.Context(), "acme", "", 100)
				require.NoError(t, err)
				var id string
				for _, u := range users {
					if u.EmailTmp == p.Email {
						id = u.ID
					}
				}
				body := []byte(`{"id":"` + sent[0].CustomID + `","brandId":"acme","kind":"signup_confirmation","userId":"` + id + `"}`)
				host := azfunctest.NewHost(t, app.App.Handler)
				for i := range 2 { // Service Bus delivers at least once
					res := host.Invoke(triggers.MailSender, azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: body, MessageID: sent[0].CustomID, DeliveryCount: i + 2}))
					require.NoError(t, res.Err())
				}
				require.Len(t, f.sentTo(p.Email), 1)
			})
		})
	}
}

// TestRefusedInvitationShowsInvitationFailed: Mailjet refuses an invitation's address for
// good (mj-0013); the member's CRM shows the contact's invitation failed and its address
// undeliverable instead of "invitation sent" (issue 21), on both stores, and the job is
// dead-lettered by ids.
func TestRefusedInvitationShowsInvitationFailed(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			f, app := startMailjetApp(t, be)
			app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "contacts": manualEntry["contacts"]})
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
				map[string]any{"externalId": "seller-1", "email": "seller@brand.example", "firstName": "Sam"})})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			member := res.JSON(t)["memberId"].(string)
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "nobody@example.test", "firstName": "Fran"})
			require.Equal(t, 201, res.Status, "%s", res.Body)
			contact := res.JSON(t)["contactId"].(string)

			f.then("send-v31-response-error.json")
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+contact+"/invite", nil)
			require.Equal(t, 202, res.Status, "%s", res.Body)
			require.Equal(t, "invitation_sent", res.JSON(t)["memberOptIn"], "queued: not refused yet")
			var view struct {
				Contacts []struct{ ID, MemberOptIn, EmailStatus string }
			}
			for {
				res = app.admin("GET", "/api/brands/acme/members/"+member+"/contacts", nil)
				require.Equal(t, 200, res.Status, "%s", res.Body)
				require.NoError(t, json.Unmarshal(res.Body, &view))
				require.Len(t, view.Contacts, 1)
				if view.Contacts[0].MemberOptIn != "invitation_sent" {
					break
				}
				require.NoError(t, t.Context().Err(), "the refusal never reached the contact")
				time.Sleep(5 * time.Millisecond)
			}
			require.Equal(t, "invitation_failed", view.Contacts[0].MemberOptIn)
			require.Equal(t, "undeliverable", view.Contacts[0].EmailStatus)
			require.Empty(t, f.sentTo("nobody@example.test"))
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+contact+"/invite", nil)
			require.Equal(t, 409, res.Status, "an undeliverable contact is not invited again: %s", res.Body)
			require.NotContains(t, app.logs.String(), "nobody@example.test")
		})
	}
}

// TestUnavailableJobIsDeferredUnderTheHost: under the Functions host a failed delivery comes
// back at once, so a Mailjet outage would burn the message's deliveries in seconds. The job is
// published again for later and this delivery completes (review fix 3 of #13).
func TestUnavailableJobIsDeferredUnderTheHost(t *testing.T) {
	f := newFakeMailjet(t)
	app := startApp(t, mailjetEnv(f))
	app.putBrand("acme", nil)
	p := newFakePerson()
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
	tok := linkToken.FindStringSubmatch(app.waitSent(t, f, p.Email, 1)[0].Text)
	res := app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": tok[1]}, nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	id := res.JSON(t)["memberId"].(string)
	app.waitIdle()
	app.setClock(t, time.Now()) // waitSent moved it on; the host's deferral counts on the wall clock
	f.then("send-v31-response-5xx.json")
	before := queueCounts(t, app)["gdpr-mail"]
	body := []byte(`{"id":"mail_outage_1","brandId":"acme","kind":"account_exists","userId":"` + id + `"}`)
	inv := azfunctest.NewHost(t, app.App.Handler).Invoke(triggers.MailSender,
		azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: body, MessageID: "mail_outage_1", DeliveryCount: 1}))
	require.NoError(t, inv.Err(), "the delivery completes")
	after := queueCounts(t, app)["gdpr-mail"]
	require.Equal(t, before.Scheduled+1, after.Scheduled, "a copy waits out the outage")
	require.Contains(t, app.logs.String(), `"msg":"job deferred: a dependency is unavailable"`)
	require.Len(t, f.sentTo(p.Email), 1, "nothing sent but the signup's own mail")
}

type queueCount struct{ Ready, Scheduled, InFlight, DeadLettered int }

func queueCounts(t *testing.T, a *testApp) map[string]queueCount {
	t.Helper()
	res := a.admin("GET", "/api/admin/queues", nil)
	require.Equal(t, 200, res.Status)
	var body struct{ Queues map[string]queueCount }
	require.NoError(t, json.Unmarshal(res.Body, &body))
	return body.Queues
}
