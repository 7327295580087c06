// Package azfunctest plays the Functions host against a handler, so a
// package's tests can invoke /ErasureWorker, /MailSender or /RetentionSweep
// the way Azure will, and judge the answer the way Azure does.
//
//	host := azfunctest.NewHost(t, router)
//	res := host.Invoke("ErasureWorker", azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: body}))
//	require.NoError(t, res.Err())
package azfunctest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// HostVersion is the host version the requests claim to come from, matching
// the fixtures in ../testdata.
const HostVersion = "4.1037.0.23568"

// Host sends invocations to a handler over real HTTP, as the Functions host
// does.
type Host struct {
	t      testing.TB
	url    string
	client *http.Client
}

// NewHost serves h on a loopback port for the rest of the test.
func NewHost(t testing.TB, h http.Handler) *Host {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.Timeout = time.Minute
	return &Host{t: t, url: srv.URL, client: client}
}

// Invoke POSTs env to /{function}. Like the real host it fills in
// Metadata.sys when env has none.
func (h *Host) Invoke(function string, env Envelope) *Response {
	h.t.Helper()
	meta := maps.Clone(env.Metadata)
	if meta == nil {
		meta = map[string]any{}
	}
	if _, ok := meta["sys"]; !ok {
		meta["sys"] = map[string]any{
			"MethodName": function,
			"UtcNow":     time.Now().UTC().Format(time.RFC3339Nano),
			"RandGuid":   newGUID(),
		}
	}
	body, err := json.Marshal(Envelope{Data: env.Data, Metadata: meta})
	if err != nil {
		h.t.Fatalf("azfunctest: encode envelope for %s: %v", function, err)
	}
	return h.Post(function, body)
}

// Post sends body verbatim to /{function}: chunked, with no Content-Length,
// and with the headers the host sets. Use it to replay recorded envelopes.
func (h *Host) Post(function string, body []byte) *Response {
	h.t.Helper()
	// A reader of unknown length makes the client send chunked, as the
	// host's ObjectContent does.
	req, err := http.NewRequest(http.MethodPost, h.url+"/"+function, io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		h.t.Fatalf("azfunctest: %v", err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Azure-Functions-Host/"+HostVersion)
	req.Header.Set("X-Azure-Functions-HostVersion", HostVersion)
	req.Header.Set("X-Azure-Functions-InvocationId", newGUID())

	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("azfunctest: invoke %s: %v", function, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("azfunctest: read %s response: %v", function, err)
	}
	return Judge(resp.StatusCode, resp.Header, respBody)
}

// Response is a handler's answer to an invocation, and the host's verdict.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte

	// Outputs, Logs and ReturnValue are the parsed body, filled in only
	// when the host would accept it.
	Outputs     map[string]json.RawMessage
	Logs        []string
	ReturnValue json.RawMessage

	err error
}

// Err is nil when the host would count the invocation as a success, and
// otherwise says why it would not.
func (r *Response) Err() error { return r.err }

// Output unmarshals the named output binding's value into v.
func (r *Response) Output(name string, v any) error {
	if r.err != nil {
		return r.err
	}
	raw, ok := r.Outputs[name]
	if !ok {
		return fmt.Errorf("azfunctest: no output %q", name)
	}
	return json.Unmarshal(raw, v)
}

// Judge decides as the host does. It needs a 2xx status (the host calls
// EnsureSuccessStatusCode), a JSON content type (it reads the body with a
// JSON media-type formatter, which refuses text/plain) and a JSON object
// body (an empty one reads as null and stalls the invocation until
// functionTimeout).
func Judge(status int, header http.Header, body []byte) *Response {
	r := &Response{StatusCode: status, Header: header, Body: body}
	r.err = r.judge()
	if r.err != nil {
		r.Outputs, r.Logs, r.ReturnValue = nil, nil, nil
	}
	return r
}

func (r *Response) judge() error {
	if r.StatusCode < 200 || r.StatusCode > 299 {
		return fmt.Errorf("azfunctest: status %d fails the invocation", r.StatusCode)
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && mt != "text/json") {
		return fmt.Errorf("azfunctest: Content-Type %q is not one the host's JSON formatter reads", ct)
	}
	trimmed := bytes.TrimSpace(r.Body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("azfunctest: body is not a JSON object; the host would wait for a result until functionTimeout")
	}
	var result struct {
		Outputs     map[string]json.RawMessage
		Logs        []string
		ReturnValue json.RawMessage
	}
	if err := json.Unmarshal(trimmed, &result); err != nil {
		return fmt.Errorf("azfunctest: body is not {Outputs,Logs,ReturnValue}: %w", err)
	}
	r.Outputs, r.Logs, r.ReturnValue = result.Outputs, result.Logs, result.ReturnValue
	return nil
}

func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
