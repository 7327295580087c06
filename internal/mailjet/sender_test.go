package mailjet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mj "github.com/mailjet/mailjet-apiv3-go/v4"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// Fake credentials and people: no production data in tests (R-OPS-4).
const (
	testPub  = "pub0123456789abcdef"
	testPriv = "priv-SECRET-fedcba9876543210"
)

var platformSender = gdpr.Sender{Email: "noreply@platform.example", Name: "Popsell"}

// fakeMailjet is an httptest server speaking the Send API v3.1 as the fixtures show it. It
// records what the real SDK sent and answers with the status and body a test sets.
type fakeMailjet struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	answer   func(w http.ResponseWriter, r *http.Request, body []byte)
}

type recorded struct {
	Method, Path, ContentType string
	User, Pass                string
	BasicAuth                 bool
	Body                      []byte
}

func newFakeMailjet(t *testing.T) *fakeMailjet {
	f := &fakeMailjet{}
	f.answer = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "send-v31-response-success.json"))
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, pass, ok := r.BasicAuth()
		f.mu.Lock()
		f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Content-Type"), user, pass, ok, body})
		answer := f.answer
		f.mu.Unlock()
		answer(w, r, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// setAnswer replaces how the server answers.
func (f *fakeMailjet) setAnswer(answer func(w http.ResponseWriter, r *http.Request, body []byte)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = answer
}

// reply answers every request with a fixture (or raw text) and a status.
func (f *fakeMailjet) reply(t *testing.T, status int, contentType string, body []byte) {
	f.setAnswer(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

func (f *fakeMailjet) only(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.requests, 1)
	return f.requests[0]
}

func (f *fakeMailjet) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func newClient(t *testing.T, base string, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(Config{PublicKey: testPub, PrivateKey: testPriv, BaseURL: base, Timeout: timeout, DefaultFrom: platformSender})
	require.NoError(t, err)
	return c
}

// templateMail mirrors send-v31-request.json: the brand's sender, a template, its variables.
func templateMail() gdpr.Mail {
	return gdpr.Mail{
		BrandID: "demo", Kind: gdpr.MailSignupConfirmation, To: "alice@example.com",
		Subject: "Please confirm your email address",
		Text:    "built-in text with https://app.example.org/confirm?token=abc123",
		HTML:    `<a href="https://app.example.org/confirm?token=abc123">built-in</a>`,
		Links:   []string{"https://app.example.org/confirm?token=abc123"},
		Variables: map[string]string{
			"confirm_url": "https://app.example.org/confirm?token=abc123", "name": "Alice",
		},
		From:       gdpr.Sender{Email: "noreply@example.org", Name: "Example App"},
		TemplateID: 1234567,
		JobID:      "doi-42",
	}
}

// inlineMail mirrors send-v31-request-inline-html.json: the built-in subject and bodies.
func inlineMail() gdpr.Mail {
	return gdpr.Mail{
		BrandID: "demo", Kind: gdpr.MailAccountExists, To: "bob@example.net",
		Subject: "You have been invited to Example App",
		Text:    "Hi, you have been invited. Accept: https://app.example.org/invite/xyz",
		HTML:    `<p>Hi, you have been invited. <a href="https://app.example.org/invite/xyz">Accept</a></p>`,
		Links:   []string{"https://app.example.org/invite/xyz"},
		From:    gdpr.Sender{Email: "noreply@example.org", Name: "Example App"},
		JobID:   "invite-17",
	}
}

func jsonDoc(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	return doc
}

// The request the real SDK sends for a template mail has the shape of
// send-v31-request.json, the fixture the SDK itself produced (CONTRACT §2), with two
// deliberate differences: the recipient carries no name (gdpr.Mail has none to give), and
// EventPayload carries our ids instead of the fixture's.
func TestSend_R_MAIL_templateRequestHasTheFixtureShape(t *testing.T) {
	f := newFakeMailjet(t)
	c := newClient(t, f.URL+"/v3", 0)
	m := templateMail()
	require.NoError(t, c.Send(context.Background(), m))

	req := f.only(t)
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, "/v3.1/send", req.Path)
	require.Equal(t, "application/json", req.ContentType)
	require.True(t, req.BasicAuth)
	require.Equal(t, testPub, req.User)
	require.Equal(t, testPriv, req.Pass)

	want := jsonDoc(t, fixture(t, "send-v31-request.json"))
	msg := want["Messages"].([]any)[0].(map[string]any)
	msg["To"] = []any{map[string]any{"Email": "alice@example.com"}}
	msg["EventPayload"] = EncodePayload("demo", "signup_confirmation", "doi-42")
	require.Equal(t, want, jsonDoc(t, req.Body))
}

func TestSend_inlineRequestHasTheFixtureShape(t *testing.T) {
	f := newFakeMailjet(t)
	c := newClient(t, f.URL+"/v3", 0)
	require.NoError(t, c.Send(context.Background(), inlineMail()))

	want := jsonDoc(t, fixture(t, "send-v31-request-inline-html.json"))
	// The fixture is a sandbox request; this client never sends sandbox mode (the SDK
	// spells it "SandBoxMode", which Mailjet does not document: CONTRACT §3).
	delete(want, "SandboxMode")
	msg := want["Messages"].([]any)[0].(map[string]any)
	msg["EventPayload"] = EncodePayload("demo", "account_exists", "invite-17")
	require.Equal(t, want, jsonDoc(t, f.only(t).Body))
}

// R-DATA-4, R-OPS-1: what Mailjet keeps and echoes in every event names ids only.
func TestSend_R_OPS_1_eventPayloadCarriesIdsOnly(t *testing.T) {
	f := newFakeMailjet(t)
	c := newClient(t, f.URL, 0)
	m := templateMail()
	require.NoError(t, c.Send(context.Background(), m))

	msg := jsonDoc(t, f.only(t).Body)["Messages"].([]any)[0].(map[string]any)
	payload := msg["EventPayload"].(string)
	require.Equal(t, "doi-42", msg["CustomID"])
	for _, personal := range []string{m.To, "alice", "Alice", "token", "abc123", "http", m.From.Email, m.From.Name, m.Subject} {
		require.NotContains(t, payload, personal)
	}
	brand, kind, job, ok := ParsePayload(payload)
	require.True(t, ok)
	require.Equal(t, []string{"demo", "signup_confirmation", "doi-42"}, []string{brand, kind, job})
	require.NotContains(t, msg, "TextPart", "a template renders the body; the built-in one is not sent")
	require.NotContains(t, msg, "HTMLPart")
}

func TestSend_defaultSenderWhenTheMailHasNone(t *testing.T) {
	f := newFakeMailjet(t)
	c := newClient(t, f.URL, 0)
	m := inlineMail()
	m.From = gdpr.Sender{}
	require.NoError(t, c.Send(context.Background(), m))
	msg := jsonDoc(t, f.only(t).Body)["Messages"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"Email": "noreply@platform.example", "Name": "Popsell"}, msg["From"])
}

// Every response fixture, and the statuses around them, through the real SDK: success is
// nil, a 4xx other than 429 is undeliverable (dead-lettered), the rest is retried. Only a
// refusal Mailjet relates to the recipient's address marks the mail's subject (issue 21): not
// the sender's, the keys' or the request's.
func TestSend_R_MAIL_responsesAreClassified(t *testing.T) {
	const jsonCT = "application/json"
	for _, c := range []struct {
		name        string
		status      int
		contentType string
		body        []byte
		want        string // "ok", "undeliverable", "recipient" (undeliverable, the address's fault) or "retry"
		code        string // Mailjet's ErrorCode expected in the error
	}{
		{"success", 200, jsonCT, fixture(t, "send-v31-response-success.json"), "ok", ""},
		{"sandbox success (MessageID 0)", 200, jsonCT, fixture(t, "send-v31-response-sandbox.json"), "ok", ""},
		{"per-message 400 (mj-0013)", 400, jsonCT, fixture(t, "send-v31-response-error.json"), "recipient", "mj-0013"},
		{"400 related to the whole To list", 400, jsonCT, []byte(`{"Messages":[{"Status":"error","Errors":[{"ErrorIdentifier":"d4","ErrorCode":"mj-0013","StatusCode":400,"ErrorMessage":"x","ErrorRelatedTo":["To"]}]}]}`), "recipient", "mj-0013"},
		{"400 related to a field named like To", 400, jsonCT, []byte(`{"Messages":[{"Status":"error","Errors":[{"ErrorIdentifier":"d5","ErrorCode":"mj-0004","StatusCode":400,"ErrorMessage":"x","ErrorRelatedTo":["TemplateID"]}]}]}`), "undeliverable", "mj-0004"},
		{"global 400 (mj-0002)", 400, jsonCT, fixture(t, "send-v31-response-error-global.json"), "undeliverable", "mj-0002"},
		{"401 bad credentials", 401, jsonCT, []byte(`{"ErrorIdentifier":"a1","ErrorCode":"mj-0015","StatusCode":401,"ErrorMessage":"API key authentication/authorization failure."}`), "undeliverable", "mj-0015"},
		{"403 unauthorised sender", 403, jsonCT, []byte(`{"Messages":[{"Status":"error","Errors":[{"ErrorIdentifier":"b2","ErrorCode":"send-0008","StatusCode":403,"ErrorMessage":"\"noreply@example.org\" is not an authorized sender email address for your account.","ErrorRelatedTo":["From"]}]}]}`), "undeliverable", "send-0008"},
		{"401 with an empty body", 401, "", nil, "undeliverable", ""},
		{"404 HTML", 404, "text/html", []byte("<html>not found alice@example.com</html>"), "undeliverable", ""},
		{"500 (fixture)", 500, jsonCT, fixture(t, "send-v31-response-5xx.json"), "retry", ""},
		{"502 HTML from a proxy", 502, "text/html", []byte("<html><body>Bad Gateway</body></html>"), "retry", ""},
		{"503 empty", 503, "", nil, "retry", ""},
		{"429 HTML page (fixture)", 429, "text/html", fixture(t, "send-v31-response-429.html"), "retry", ""},
		{"429 JSON", 429, jsonCT, []byte(`{"ErrorIdentifier":"c3","StatusCode":429,"ErrorMessage":"Too many requests"}`), "retry", ""},
		{"408", 408, "", nil, "retry", ""},
		{"200 with a broken body", 200, jsonCT, []byte(`{"Messages":[{"Status":"succ`), "retry", ""},
		{"200 with an HTML body", 200, "text/html", []byte(`<html>ok</html>`), "retry", ""},
		{"200 with no message", 200, jsonCT, []byte(`{"Messages":[]}`), "retry", ""},
		{"200 with a per-message error", 200, jsonCT, []byte(`{"Messages":[{"Status":"error","Errors":[{"ErrorCode":"mj-0013","ErrorMessage":"alice@example.com"}]}]}`), "undeliverable", ""},
		{"202", 202, jsonCT, fixture(t, "send-v31-response-success.json"), "retry", ""},
		{"302 redirect", 302, "", nil, "retry", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeMailjet(t)
			f.reply(t, c.status, c.contentType, c.body)
			if c.status == 302 {
				f.setAnswer(func(w http.ResponseWriter, r *http.Request, _ []byte) {
					http.Redirect(w, r, "/elsewhere", http.StatusFound)
				})
			}
			cl := newClient(t, f.URL, 0)
			err := cl.Send(context.Background(), templateMail())
			require.Equal(t, 1, f.count(), "one call per mail, never a hidden retry")
			switch c.want {
			case "ok":
				require.NoError(t, err)
				return
			case "undeliverable":
				require.ErrorIs(t, err, gdpr.ErrUndeliverable)
				require.NotErrorIs(t, err, gdpr.ErrRecipientRefused, "not the address's fault: its subject stays as it is")
				require.NotEqual(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))
			case "recipient":
				require.ErrorIs(t, err, gdpr.ErrRecipientRefused)
				require.ErrorIs(t, err, gdpr.ErrUndeliverable, "a refused address is a refusal for good")
				require.NotEqual(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))
			case "retry":
				require.Error(t, err)
				require.NotErrorIs(t, err, gdpr.ErrUndeliverable)
				require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))
			}
			var se *SendError
			require.ErrorAs(t, err, &se)
			require.Equal(t, c.status, se.Status)
			require.Equal(t, c.want == "retry", se.Retryable)
			require.Equal(t, c.want == "recipient", se.RecipientRefused())
			require.Contains(t, err.Error(), fmt.Sprintf("status %d", c.status))
			if c.code != "" {
				require.Equal(t, c.code, se.ErrorCode)
				require.Contains(t, err.Error(), c.code)
			}
			requireNoSecrets(t, err)
		})
	}
}

// The fixtures' details survive where the SDK drops them: the per-message error's field
// path and id, and the global 400's code, which the SDK reduces to {"Messages":null}.
func TestSend_keepsMailjetsCodesNotItsMessages(t *testing.T) {
	f := newFakeMailjet(t)
	f.reply(t, 400, "application/json", fixture(t, "send-v31-response-error.json"))
	err := newClient(t, f.URL, 0).Send(context.Background(), templateMail())
	var se *SendError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "mj-0013", se.ErrorCode)
	require.Equal(t, []string{"To[0].Email"}, se.RelatedTo)
	require.Equal(t, "2b6f0c7e-31a4-4d2e-9c55-0f1e2d3c4b5a", se.ErrorIdentifier)
	require.Equal(t, "mailjet send: status 400 mj-0013 (To[0].Email) id 2b6f0c7e-31a4-4d2e-9c55-0f1e2d3c4b5a: Mailjet refused the message (undeliverable: the recipient's address)", err.Error())

	f.reply(t, 400, "application/json", fixture(t, "send-v31-response-error-global.json"))
	err = newClient(t, f.URL, 0).Send(context.Background(), templateMail())
	require.ErrorAs(t, err, &se)
	require.Equal(t, "mj-0002", se.ErrorCode)
	require.Equal(t, "8d1c2b3a-4e5f-4a6b-9c7d-0e1f2a3b4c5d", se.ErrorIdentifier)

	// A server that puts an address or a sentence where a code belongs is not quoted.
	f.reply(t, 400, "application/json", []byte(`{"ErrorCode":"alice@example.com","ErrorIdentifier":"see alice@example.com","Messages":[{"Errors":[{"ErrorRelatedTo":["alice@example.com","To[0].Email"]}]}]}`))
	err = newClient(t, f.URL, 0).Send(context.Background(), templateMail())
	require.ErrorAs(t, err, &se)
	require.Empty(t, se.ErrorCode)
	require.Empty(t, se.ErrorIdentifier)
	require.Equal(t, []string{"To[0].Email"}, se.RelatedTo)
	requireNoSecrets(t, err)
}

// A Mailjet outage delays mail and loses none: no answer, a timeout or a cancelled
// context are all retryable.
func TestSend_networkFailuresAreRetryable(t *testing.T) {
	t.Run("closed server", func(t *testing.T) {
		f := newFakeMailjet(t)
		c := newClient(t, f.URL, 0)
		f.Close()
		err := c.Send(context.Background(), templateMail())
		requireRetryable(t, err, 0)
		require.Contains(t, err.Error(), "no answer from Mailjet")
	})
	t.Run("server slower than the timeout", func(t *testing.T) {
		f := newFakeMailjet(t)
		release := make(chan struct{})
		defer close(release)
		f.setAnswer(func(w http.ResponseWriter, r *http.Request, _ []byte) {
			select { // hold the answer until the client gives up (or the test ends)
			case <-r.Context().Done():
			case <-release:
			}
		})
		// The answer is held until the test ends: that Send returns at all is the timeout's
		// doing, whatever the machine's speed.
		err := newClient(t, f.URL, 100*time.Millisecond).Send(context.Background(), templateMail())
		requireRetryable(t, err, 0)
	})
	t.Run("headers on time, body too slow", func(t *testing.T) {
		f := newFakeMailjet(t)
		release := make(chan struct{})
		defer close(release)
		f.setAnswer(func(w http.ResponseWriter, r *http.Request, _ []byte) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"Messages":[`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		// The headers must reach the client within the timeout even on a loaded machine; the
		// body never comes, so the timeout ends the send in any case.
		err := newClient(t, f.URL, 3*time.Second).Send(context.Background(), templateMail())
		requireRetryable(t, err, 200)
	})
	t.Run("context cancelled before the call", func(t *testing.T) {
		f := newFakeMailjet(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := newClient(t, f.URL, 0).Send(ctx, templateMail())
		requireRetryable(t, err, 0)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("context cancelled during the call", func(t *testing.T) {
		f := newFakeMailjet(t)
		ctx, cancel := context.WithCancel(context.Background())
		f.setAnswer(func(w http.ResponseWriter, r *http.Request, _ []byte) {
			cancel()
			<-r.Context().Done()
		})
		err := newClient(t, f.URL, 0).Send(ctx, templateMail())
		requireRetryable(t, err, 0)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("context deadline", func(t *testing.T) {
		f := newFakeMailjet(t)
		f.setAnswer(func(w http.ResponseWriter, r *http.Request, _ []byte) { <-r.Context().Done() })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := newClient(t, f.URL, 0).Send(ctx, templateMail())
		requireRetryable(t, err, 0)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func requireRetryable(t *testing.T, err error, status int) {
	t.Helper()
	require.Error(t, err)
	require.NotErrorIs(t, err, gdpr.ErrUndeliverable)
	require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))
	var se *SendError
	require.ErrorAs(t, err, &se)
	require.True(t, se.Retryable)
	require.Equal(t, status, se.Status)
	requireNoSecrets(t, err)
}

// requireNoSecrets: an error of this package never carries an address, a key, a token or
// Mailjet's ErrorMessage text (which quotes the address) — it is logged and kept as a
// dead-letter reason (R-OPS-1).
func requireNoSecrets(t *testing.T, err error) {
	t.Helper()
	s := err.Error()
	for _, secret := range []string{
		"alice", "bob@", "@example", testPub, testPriv, "token", "abc123",
		"invalid email address", "Ouch", "Malformed JSON", "authorized sender", "authentication",
	} {
		require.NotContains(t, s, secret)
	}
}

// Each send records its own status: concurrent sends answered differently never swap
// their classification (run with -race).
func TestSend_concurrentSendsKeepTheirOwnStatus(t *testing.T) {
	f := newFakeMailjet(t)
	f.setAnswer(func(w http.ResponseWriter, _ *http.Request, body []byte) {
		var req struct{ Messages []struct{ CustomID string } }
		_ = json.Unmarshal(body, &req)
		w.Header().Set("Content-Type", "application/json")
		switch req.Messages[0].CustomID[0] {
		case 'o':
			_, _ = w.Write(fixture(t, "send-v31-response-success.json"))
		case 'u':
			w.WriteHeader(400)
			_, _ = w.Write(fixture(t, "send-v31-response-error.json"))
		default:
			w.WriteHeader(503)
		}
	})
	c := newClient(t, f.URL, 0)
	var wg sync.WaitGroup
	for i := range 60 {
		kind := []string{"ok", "undeliverable", "retry"}[i%3]
		wg.Go(func() {
			m := inlineMail()
			m.JobID = fmt.Sprintf("%s-%d", kind, i)
			err := c.Send(context.Background(), m)
			switch kind {
			case "ok":
				require.NoError(t, err)
			case "undeliverable":
				require.ErrorIs(t, err, gdpr.ErrUndeliverable)
			default:
				require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))
			}
		})
	}
	wg.Wait()
	require.Equal(t, 60, f.count())
}

// What Mailjet would refuse for good is refused without a call.
func TestSend_refusesAnUnsendableMailWithoutACall(t *testing.T) {
	f := newFakeMailjet(t)
	c := newClient(t, f.URL, 0)
	for name, edit := range map[string]func(*gdpr.Mail){
		"no recipient":           func(m *gdpr.Mail) { m.To = " " },
		"no template, no body":   func(m *gdpr.Mail) { m.TemplateID, m.Text, m.HTML = 0, "", "" },
		"negative template":      func(m *gdpr.Mail) { m.TemplateID = -1 },
		"sender name with CRLF":  func(m *gdpr.Mail) { m.From.Name = "Brand\r\nBcc: x@example.com" },
		"sender without an at":   func(m *gdpr.Mail) { m.From.Email = "noreply" },
		"sender with an address": func(m *gdpr.Mail) { m.From.Email = "Brand <noreply@example.org>" },
	} {
		m := templateMail()
		edit(&m)
		err := c.Send(context.Background(), m)
		require.ErrorIs(t, err, gdpr.ErrUndeliverable, name)
		requireNoSecrets(t, err)
	}
	require.Zero(t, f.count())
}

func TestNew_requiresItsSettingsAndQuotesNoValue(t *testing.T) {
	ok := Config{PublicKey: testPub, PrivateKey: testPriv, DefaultFrom: platformSender}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.PublicKey = "" }, "PublicKey"},
		{func(c *Config) { c.PublicKey = " \n" }, "PublicKey"},
		{func(c *Config) { c.PrivateKey = "" }, "PrivateKey"},
		{func(c *Config) { c.DefaultFrom = gdpr.Sender{} }, "DefaultFrom"},
		{func(c *Config) { c.DefaultFrom.Email = "noreply" }, "DefaultFrom"},
		{func(c *Config) { c.Timeout = -time.Second }, "Timeout"},
		{func(c *Config) { c.BaseURL = "http://api.mailjet.com/v3" }, "BaseURL"},
		{func(c *Config) { c.BaseURL = "https://" + testPub + ":" + testPriv + "@api.mailjet.com/v3" }, "BaseURL"},
		{func(c *Config) { c.BaseURL = "api.mailjet.com" }, "BaseURL"},
		{func(c *Config) { c.BaseURL = "https://api.mailjet.com/v3?key=" + testPriv }, "BaseURL"},
	} {
		cfg := ok
		c.edit(&cfg)
		_, err := New(cfg)
		require.ErrorContains(t, err, c.want)
		require.NotContains(t, err.Error(), testPub)
		require.NotContains(t, err.Error(), testPriv)
		require.NotContains(t, err.Error(), "noreply")
	}

	// Printing or logging a Config shows no key.
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "mailjet", ok)
	out := fmt.Sprintf("%v %+v %#v %s", ok, ok, ok, ok) + logs.String()
	require.NotContains(t, out, testPub)
	require.NotContains(t, out, testPriv)
}

func TestNew_defaults(t *testing.T) {
	c, err := New(Config{PublicKey: testPub, PrivateKey: testPriv, DefaultFrom: platformSender})
	require.NoError(t, err)
	require.Equal(t, "https://api.mailjet.com/v3", c.BaseURL())
	require.Equal(t, 10*time.Second, c.sdk.Client().Timeout, "the SDK's default client has no timeout")
	_, isRecorder := c.sdk.Client().Transport.(*recorder)
	require.True(t, isRecorder, "the status recorder sits under the SDK")

	c = newClient(t, "", 3*time.Second)
	require.Equal(t, 3*time.Second, c.sdk.Client().Timeout)
}

// R-OPS-1: at LevelDebugFull the SDK prints every request body to the standard logger.
func TestNew_R_OPS_1_refusesTheSDKsDebugLogging(t *testing.T) {
	defer func(l int) { mj.DebugLevel = l }(mj.DebugLevel)
	mj.DebugLevel = mj.LevelDebugFull
	_, err := New(Config{PublicKey: testPub, PrivateKey: testPriv, DefaultFrom: platformSender})
	require.ErrorContains(t, err, "DebugLevel")
}

// The SDK appends ".1/send" to its base, so the base must end in "/v3" (CONTRACT §2); a
// configured base with or without it, or with the Send API's "/v3.1", is normalised.
func TestNormaliseBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "https://api.mailjet.com/v3",
		"https://api.mailjet.com":             "https://api.mailjet.com/v3",
		"https://api.mailjet.com/":            "https://api.mailjet.com/v3",
		"https://api.mailjet.com/v3":          "https://api.mailjet.com/v3",
		" https://api.mailjet.com/v3/ ":       "https://api.mailjet.com/v3",
		"https://api.mailjet.com/v3.1":        "https://api.mailjet.com/v3",
		"https://api.us.mailjet.com":          "https://api.us.mailjet.com/v3",
		"https://proxy.example.org/mailjet":   "https://proxy.example.org/mailjet/v3",
		"https://proxy.example.org/mailjet/":  "https://proxy.example.org/mailjet/v3",
		"http://127.0.0.1:41041":              "http://127.0.0.1:41041/v3",
		"http://localhost:8080/v3":            "http://localhost:8080/v3",
		"http://[::1]:8080":                   "http://[::1]:8080/v3",
		"https://api.mailjet.com:443/v3/////": "https://api.mailjet.com:443/v3",
	} {
		got, err := normaliseBaseURL(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"http://api.mailjet.com", "ftp://api.mailjet.com", "/v3", "https://",
		"https://u:p@api.mailjet.com", "https://api.mailjet.com/v3?x=1", "https://api.mailjet.com/v3#f", "https://api.mailjet.com/v3?"} {
		_, err := normaliseBaseURL(in)
		require.Error(t, err, in)
	}
}

// End to end through the real SDK: a bare httptest URL (which the SDK alone turns into
// "invalid port") and one with "/v3/" both reach /v3.1/send.
func TestSend_baseURLWithOrWithoutV3(t *testing.T) {
	for _, suffix := range []string{"", "/", "/v3", "/v3/", "/v3.1"} {
		f := newFakeMailjet(t)
		require.NoError(t, newClient(t, f.URL+suffix, 0).Send(context.Background(), inlineMail()), suffix)
		require.Equal(t, "/v3.1/send", f.only(t).Path, suffix)
	}

	// The SDK on its own, for the record of why New normalises.
	f := newFakeMailjet(t)
	_, err := mj.NewMailjetClient(testPub, testPriv, f.URL).SendMailV31(&mj.MessagesV31{})
	require.ErrorContains(t, err, "invalid port", "the SDK needs the /v3 suffix")
}

// R-MAIL-5: a mail to a contact carries its one-click unsubscribe headers (RFC 8058) in the
// Send API's Headers, with a built-in body as with the brand's template; a mail without
// them sends no Headers at all.
func TestSend_R_MAIL_5_oneClickUnsubscribeHeadersReachMailjet(t *testing.T) {
	headers := map[string]string{"List-Unsubscribe": "<https://gdpr.example.test/api/brands/demo/unsubscribe?token=t>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
	for name, m := range map[string]gdpr.Mail{"inline": inlineMail(), "template": templateMail()} {
		t.Run(name, func(t *testing.T) {
			f := newFakeMailjet(t)
			c := newClient(t, f.URL, 0)
			m.Headers = headers
			require.NoError(t, c.Send(context.Background(), m))
			msg := jsonDoc(t, f.only(t).Body)["Messages"].([]any)[0].(map[string]any)
			require.Equal(t, map[string]any{"List-Unsubscribe": headers["List-Unsubscribe"],
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}, msg["Headers"])
		})
	}
	f := newFakeMailjet(t)
	require.NoError(t, newClient(t, f.URL, 0).Send(context.Background(), inlineMail()))
	require.NotContains(t, jsonDoc(t, f.only(t).Body)["Messages"].([]any)[0].(map[string]any), "Headers")
}
