// Package mailjet is the Mailjet adapter: Client sends gdpr.Mail through the Send API v3.1
// with the official SDK (github.com/mailjet/mailjet-apiv3-go/v4), and DecodeEvents reads the
// Event API callbacks Mailjet posts back. The wire facts it relies on are in
// testdata/CONTRACT.md, with the fixtures the tests replay.
//
// Nothing here logs: errors carry HTTP statuses and Mailjet's error codes and ids, never an
// address, a name, a body, a link or a key (R-OPS-1). Mailjet's own ErrorMessage text is
// never kept either, because it quotes the address it refused.
package mailjet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	mj "github.com/mailjet/mailjet-apiv3-go/v4"

	"popsell-gdpr/internal/gdpr"
)

// Defaults for Config.
const (
	// DefaultBaseURL is the SDK's own base. The SDK appends ".1/send" to it, so it must end
	// in "/v3" (CONTRACT §2); New adds the suffix when a configured base lacks it.
	DefaultBaseURL = "https://api.mailjet.com/v3"
	// DefaultTimeout bounds one send. The SDK's default http.Client has no timeout at all:
	// a stalled connection would hold the queue message until its lock expired.
	DefaultTimeout = 10 * time.Second
)

// Config configures a Client. The keys are secrets: String and LogValue redact them.
type Config struct {
	PublicKey  string // the API key (MJ_APIKEY_PUBLIC); required
	PrivateKey string // the API secret (MJ_APIKEY_PRIVATE); required
	// BaseURL is the API base, with or without the "/v3" the SDK needs (both are accepted
	// and normalised); empty means DefaultBaseURL. It must be https, except on a loopback
	// host (tests point it at an httptest server): the keys travel in every request.
	BaseURL string
	// Timeout bounds one send, connection to last byte; 0 means DefaultTimeout.
	Timeout time.Duration
	// DefaultFrom is the platform's sender, used for a mail whose From is zero; required.
	DefaultFrom gdpr.Sender
}

// String shows the configuration without its keys, for %v and %+v.
func (c Config) String() string {
	return fmt.Sprintf("mailjet.Config{PublicKey:%s PrivateKey:%s BaseURL:%q Timeout:%s DefaultFrom:set=%t}",
		redact(c.PublicKey), redact(c.PrivateKey), c.BaseURL, c.Timeout, c.DefaultFrom.Email != "")
}

// GoString keeps %#v as safe as %v.
func (c Config) GoString() string { return c.String() }

// LogValue makes slog log the configuration without its keys.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("publicKey", redact(c.PublicKey)), slog.String("privateKey", redact(c.PrivateKey)),
		slog.String("baseURL", c.BaseURL), slog.Duration("timeout", c.Timeout),
	)
}

func redact(secret string) string {
	if secret == "" {
		return "unset"
	}
	return "redacted"
}

// Client is the gdpr.Mailer that sends through Mailjet. It is safe for concurrent use.
type Client struct {
	sdk     *mj.Client
	from    gdpr.Sender
	baseURL string
}

var _ gdpr.Mailer = (*Client)(nil)

// New builds a Client. Its errors name the setting at fault, never a value.
func New(cfg Config) (*Client, error) {
	pub, priv := strings.TrimSpace(cfg.PublicKey), strings.TrimSpace(cfg.PrivateKey)
	switch {
	case pub == "":
		return nil, errors.New("mailjet: PublicKey (MJ_APIKEY_PUBLIC) is required")
	case priv == "":
		return nil, errors.New("mailjet: PrivateKey (MJ_APIKEY_PRIVATE) is required")
	case cfg.DefaultFrom.Email == "":
		return nil, errors.New("mailjet: DefaultFrom.Email is required")
	case !validSender(cfg.DefaultFrom):
		return nil, errors.New("mailjet: DefaultFrom is not a valid sender address and name")
	case cfg.Timeout < 0:
		return nil, errors.New("mailjet: Timeout must not be negative")
	}
	// The SDK's debug levels print requests, and at LevelDebugFull every mail body, with
	// the address and the links in it, to the standard logger (R-OPS-1).
	if mj.DebugLevel != mj.LevelNone {
		return nil, errors.New("mailjet: the SDK's DebugLevel is on; it would log mail bodies")
	}
	base, err := normaliseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	sdk := mj.NewMailjetClient(pub, priv, base)
	sdk.SetClient(&http.Client{
		Timeout:   timeout,
		Transport: &recorder{next: http.DefaultTransport.(*http.Transport).Clone()},
		// A redirect of a POST would be replayed as a GET without its body (301-303) or
		// re-sent (307/308); neither is what Mailjet asks for. The 3xx is classified
		// instead, as a failure to retry once someone fixes the base URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	})
	return &Client{sdk: sdk, from: cfg.DefaultFrom, baseURL: base}, nil
}

// BaseURL returns the normalised API base the client sends to.
func (c *Client) BaseURL() string { return c.baseURL }

// normaliseBaseURL accepts a base with or without the "/v3" the SDK needs (a bare host gives
// `parse "http://127.0.0.1:41041.1/send": invalid port`, CONTRACT §2), and the Send API's
// own "/v3.1", and returns it ending in "/v3".
func normaliseBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", errors.New("mailjet: BaseURL must be an absolute http(s) URL without credentials, query or fragment")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return "", errors.New("mailjet: BaseURL must use https (http only on a loopback host): the API keys travel with every request")
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, ".1") // ".../v3.1" → ".../v3"
	if !strings.HasSuffix(p, "/v3") {
		p += "/v3"
	}
	u.Path, u.RawPath = p, ""
	return u.String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validSender refuses what could not be a From: an address without "@", or a line break
// that would let a brand's configured name forge headers.
func validSender(s gdpr.Sender) bool {
	return strings.Contains(s.Email, "@") && !strings.ContainsAny(s.Email, " \t\r\n<>") &&
		!strings.ContainsAny(s.Name, "\r\n")
}

// Send hands m to Mailjet, one message per call (CONTRACT §2: a batch's partial failures
// are lost by the SDK, and retrying a batch re-sends its successes). A nil error means
// Mailjet accepted the mail, not that it was delivered: bounces come back as events.
//
// An error matching gdpr.ErrUndeliverable is a refusal for good (a 4xx other than 429:
// bad address, unauthorised sender, broken template, bad keys); any other error — 429,
// 5xx, no answer, a timeout, a cancelled ctx, or an answer that cannot be read — may pass
// on retry, and also matches a *gdpr.Error with Code gdpr.CodeUnavailable. Errors are
// *SendError.
func (c *Client) Send(ctx context.Context, m gdpr.Mail) error {
	msg, err := c.message(m)
	if err != nil {
		return err
	}
	x := &exchange{}
	res, err := c.sdk.SendMailV31(&mj.MessagesV31{Info: []mj.InfoMessagesV31{msg}},
		mj.WithContext(context.WithValue(ctx, exchangeKey{}, x)))
	return classify(ctx, x, res, err)
}

// message maps a gdpr.Mail to the SDK's Send API v3.1 message (send-v31-request.json is
// exactly what the SDK serialises). What Mailjet would refuse for good is refused here
// without a call.
func (c *Client) message(m gdpr.Mail) (mj.InfoMessagesV31, error) {
	if strings.TrimSpace(m.To) == "" {
		return mj.InfoMessagesV31{}, refused("the mail has no recipient")
	}
	from := m.From
	if from.Email == "" {
		from = c.from
	} else if !validSender(from) {
		return mj.InfoMessagesV31{}, refused("the brand's sender is not a valid address and name")
	}
	msg := mj.InfoMessagesV31{
		From: &mj.RecipientV31{Email: from.Email, Name: from.Name},
		To:   &mj.RecipientsV31{{Email: m.To}},
		// Both come back in every event of this message (CustomID, Payload), which is how
		// a callback finds its brand, kind and job. Ids only: Mailjet keeps them.
		CustomID:     m.JobID,
		EventPayload: EncodeContactPayload(string(m.BrandID), string(m.Kind), m.JobID, m.ContactID),
		Subject:      m.Subject,
	}
	if len(m.Headers) > 0 {
		// List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) go out as the mail's own
		// headers, whether the body is built in or the brand's template.
		msg.Headers = make(map[string]any, len(m.Headers))
		for k, v := range m.Headers {
			msg.Headers[k] = v
		}
	}
	switch {
	case m.TemplateID < 0 || int64(int(m.TemplateID)) != m.TemplateID: // the SDK's field is an int
		return mj.InfoMessagesV31{}, refused("the template id is out of range")
	case m.TemplateID != 0:
		// The brand's template renders the body. TemplateLanguage must be true for
		// {{var:x}} to be interpreted, and a TemplateID cannot go with Text or HTML parts
		// (Mailjet refuses the pair); the built-in Subject stays as the fallback subject.
		msg.TemplateID = int(m.TemplateID)
		msg.TemplateLanguage = true
		if len(m.Variables) > 0 {
			msg.Variables = make(map[string]any, len(m.Variables))
			for k, v := range m.Variables {
				msg.Variables[k] = v
			}
		}
	case m.Text == "" && m.HTML == "":
		return mj.InfoMessagesV31{}, refused("the mail has neither a template nor a body") // send-0003
	default:
		msg.TextPart, msg.HTMLPart = m.Text, m.HTML
	}
	return msg, nil
}
