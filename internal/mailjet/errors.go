package mailjet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	mj "github.com/mailjet/mailjet-apiv3-go/v4"

	"popsell-gdpr/internal/gdpr"
)

// SendError is every error Client.Send returns. Its text is safe to log and to keep as a
// dead-letter reason (R-OPS-1): the HTTP status, Mailjet's ErrorCode, ErrorRelatedTo paths
// and ErrorIdentifier (each checked to be a plain token), a fixed reason, and for a request
// that got no answer the transport's error (which names the API URL, never a key). Never
// Mailjet's ErrorMessage, which quotes the address it refused.
type SendError struct {
	Status          int      // the HTTP status; 0 when no answer came
	ErrorCode       string   // Mailjet's ErrorCode(s), comma-separated, e.g. "mj-0013"
	RelatedTo       []string // Mailjet's ErrorRelatedTo, e.g. "To[0].Email"
	ErrorIdentifier string   // Mailjet's id of the failure, for their support
	Retryable       bool     // false: refused for good; matches gdpr.ErrUndeliverable
	reason          string   // fixed text
	cause           error    // a transport or context error, or nil
}

// errUnavailable is what a retryable SendError also matches, so that code reading
// gdpr.ErrorCode sees CodeUnavailable ("a dependency failed; retrying may help").
var errUnavailable = &gdpr.Error{Code: gdpr.CodeUnavailable, Message: "mailjet unavailable, retry later"}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("mailjet send")
	if e.Status != 0 {
		b.WriteString(": status ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	}
	if len(e.RelatedTo) > 0 {
		b.WriteString(" (" + strings.Join(e.RelatedTo, ", ") + ")")
	}
	if e.ErrorIdentifier != "" {
		b.WriteString(" id " + e.ErrorIdentifier)
	}
	b.WriteString(": " + e.reason)
	if e.cause != nil {
		b.WriteString(": " + e.cause.Error())
	}
	switch {
	case e.Retryable:
		b.WriteString(" (retry later)")
	case e.RecipientRefused():
		b.WriteString(" (undeliverable: the recipient's address)")
	default:
		b.WriteString(" (undeliverable)")
	}
	return b.String()
}

// RecipientRefused reports a refusal for good that Mailjet relates to the recipient's address
// (ErrorRelatedTo "To[0].Email", "To[0]" or "To"; mj-0013 is the usual code): the address is
// at fault, and the mail's subject is marked undeliverable. A refusal of the sender, the
// template, the keys or the whole request relates to something else, or to nothing.
func (e *SendError) RecipientRefused() bool {
	if e.Retryable {
		return false
	}
	for _, r := range e.RelatedTo {
		if r == "To" || strings.HasPrefix(r, "To[") || strings.HasPrefix(r, "To.") {
			return true
		}
	}
	return false
}

// Unwrap makes errors.Is(err, gdpr.ErrUndeliverable) true for a refusal (and
// gdpr.ErrRecipientRefused for one of the recipient's address), and errors.As to *gdpr.Error
// (CodeUnavailable) true for a retryable failure; the cause, if any, follows
// (errors.Is(err, context.Canceled) works).
func (e *SendError) Unwrap() []error {
	class := error(gdpr.ErrUndeliverable)
	switch {
	case e.Retryable:
		class = errUnavailable
	case e.RecipientRefused():
		class = gdpr.ErrRecipientRefused
	}
	if e.cause == nil {
		return []error{class}
	}
	return []error{class, e.cause}
}

// refused is a mail refused before any call: Mailjet would refuse it too.
func refused(reason string) *SendError { return &SendError{reason: reason} }

// classify turns what the SDK returned, and what the recorder saw on the wire, into nil or a
// SendError. The status decides, because the SDK loses it: it decodes a non-JSON body (the
// 429 page is HTML) into a bare *json.SyntaxError, an empty one into io.EOF, and a global
// 400 (mj-0002) into an APIFeedbackErrorsV31 with no details (CONTRACT §2, §5.3).
func classify(ctx context.Context, x *exchange, res *mj.ResultsV31, err error) error {
	st := x.status
	if err == nil && st == http.StatusOK && res != nil && len(res.ResultsV31) == 1 {
		switch strings.ToLower(res.ResultsV31[0].Status) {
		case "success":
			return nil
		case "error": // per-message refusal in a 200: not seen, but unambiguous
			e := &SendError{Status: st, reason: "Mailjet refused the message"}
			return e
		}
	}
	e := &SendError{Status: st, Retryable: true}
	switch {
	case st == 0:
		e.reason = "no answer from Mailjet"
		// A *url.Error names the method, the API URL (no credentials: New refuses a base
		// URL with any) and the transport's error; nothing from the mail.
		var ue *url.Error
		if errors.As(err, &ue) {
			e.cause = ue
		}
	case st == http.StatusTooManyRequests:
		e.reason = "rate limited by Mailjet"
	case st >= 500:
		e.reason = "Mailjet failed"
	case st == http.StatusRequestTimeout:
		e.reason = "Mailjet timed out reading the request"
	case st >= 400:
		e.Retryable = false
		e.reason = "Mailjet refused the message"
	case st >= 300:
		e.reason = "Mailjet answered with a redirect; check the base URL"
	default:
		// 2xx whose body could not be read, or did not report exactly one success. Mailjet
		// may have accepted the mail; retrying risks a second copy, not retrying risks
		// none at all. A retry is chosen: the same trade as a crash between sending and
		// recording the job as sent, and a lost confirmation mail blocks a signup.
		e.reason = "Mailjet's answer could not be read as one accepted message"
	}
	if st >= 300 {
		e.details(x.body, err)
	}
	if e.cause == nil && ctx.Err() != nil {
		e.cause = ctx.Err() // so that callers see the cancellation for what it is
	}
	return e
}

// apiError is one of Mailjet's error objects; apiErrors reads both shapes: per message
// ({"Messages":[{"Errors":[…]}]}) and global ({"ErrorCode":…}, the SDK drops it).
type apiError struct {
	ErrorIdentifier string
	ErrorCode       string
	ErrorRelatedTo  []string
}

type apiErrors struct {
	apiError
	Messages []struct{ Errors []apiError }
}

// details fills the codes from the body the recorder kept, or from the SDK's error types
// when the body could not be read.
func (e *SendError) details(body []byte, sdkErr error) {
	var all []apiError
	var doc apiErrors
	if len(body) > 0 && json.Unmarshal(body, &doc) == nil {
		all = append(all, doc.apiError)
		for _, m := range doc.Messages {
			all = append(all, m.Errors...)
		}
	} else {
		var fb *mj.APIFeedbackErrorsV31
		var info *mj.ErrorInfoV31
		switch {
		case errors.As(sdkErr, &fb):
			for _, m := range fb.Messages {
				for _, d := range m.Errors {
					all = append(all, apiError{ErrorIdentifier: d.ErrorIdentifier, ErrorCode: d.ErrorCode, ErrorRelatedTo: d.ErrorRelatedTo})
				}
			}
		case errors.As(sdkErr, &info):
			all = append(all, apiError{ErrorIdentifier: info.Identifier})
		}
	}
	var codes []string
	for _, a := range all {
		if isToken(a.ErrorCode) && !contains(codes, a.ErrorCode) && len(codes) < 5 {
			codes = append(codes, a.ErrorCode)
		}
		if e.ErrorIdentifier == "" && isToken(a.ErrorIdentifier) {
			e.ErrorIdentifier = a.ErrorIdentifier
		}
		for _, r := range a.ErrorRelatedTo {
			if isToken(r) && !contains(e.RelatedTo, r) && len(e.RelatedTo) < 5 {
				e.RelatedTo = append(e.RelatedTo, r)
			}
		}
	}
	e.ErrorCode = strings.Join(codes, ",")
}

// token is what a code, an id or a field path from Mailjet may look like to be kept: short,
// no spaces, no "@": 1 to 64 letters, digits and "._[]-". A server that put an address or a
// sentence there is not quoted. (A loop, not a regexp: compiling {1,64} at package
// initialisation cost every cold start a fifth of a millisecond.)
func isToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("._[]-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// The recorder is the http.RoundTripper under the SDK. It notes each send's HTTP status —
// which the SDK does not return — and keeps the start of an error body, since the SDK may
// drop its details. Each Send puts its own exchange in the request's context, so concurrent
// sends never see each other's status. The request runs on the caller's goroutine (the
// http.Client calls RoundTrip synchronously), so Send reads the exchange without a lock.
type recorder struct{ next http.RoundTripper }

type exchangeKey struct{}

type exchange struct {
	status int
	body   []byte // the start of a non-2xx body; may quote the address: never printed
}

// maxErrorBody bounds what is kept of an error body; Mailjet's error documents are small.
const maxErrorBody = 64 << 10

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if err != nil || x == nil {
		return resp, err
	}
	x.status = resp.StatusCode
	if resp.StatusCode >= 300 {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		x.body = head
		// The SDK still reads the whole body, from what was kept then the rest.
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return resp, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
