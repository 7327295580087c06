package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/outbox"
)

const testAdminToken = "test-admin-token-0123456789"

// testApp is the handler running for real on a loopback port, in local mode unless a test
// changes its configuration.
type testApp struct {
	t     *testing.T
	App   *App
	URL   string
	logs  *lockedBuffer
	httpc *http.Client
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv is the environment of a local-mode test app.
func testEnv(dataDir string) map[string]string {
	return map[string]string{
		config.EnvDataDir:    dataDir,
		config.EnvAdminToken: testAdminToken,
		config.EnvHashKey:    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		config.EnvTestClock:  "1",
		config.EnvBcryptCost: "4", // bcrypt's floor: tests prove the flow, benchmarks the cost
		config.EnvLogLevel:   "debug",
		config.EnvPort:       "0",
	}
}

// startApp starts the handler with env (testEnv plus overrides) and stops it when the test ends.
func startApp(t *testing.T, overrides map[string]string) *testApp {
	t.Helper()
	app, _ := launchApp(t, overrides)
	return app
}

// launchApp starts the handler with env (testEnv plus overrides) and returns it with what
// stops it before the test ends, for a test that starts it again on the same data (a restart,
// a restore); it is stopped at the test's end otherwise.
func launchApp(t *testing.T, overrides map[string]string) (*testApp, func()) {
	t.Helper()
	return launchConfiguredApp(t, overrides, func(*App) {})
}

// launchConfiguredApp is launchApp with configure run on the app before it starts: a test
// puts its own observers under the adapters.
func launchConfiguredApp(t *testing.T, overrides map[string]string, configure func(*App)) (*testApp, func()) {
	t.Helper()
	env := testEnv(t.TempDir())
	for k, v := range overrides {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	app := NewApp(cfg, log)
	configure(app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, ln) }()
	<-app.Started()
	require.NoError(t, app.StartErr())
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done) // a hang is go test's timeout to report, with every stack
			require.NoError(t, app.Close())
		})
	}
	t.Cleanup(stop)
	return &testApp{t: t, App: app, URL: "http://" + ln.Addr().String(), logs: logs, httpc: &http.Client{Timeout: 30 * time.Second}}, stop
}

// contacts are the store's single-contact reads and writes: the tests seed and read contacts
// through them.
func (a *testApp) contacts() gdpr.ContactDocuments { return a.App.Store }

// response is an HTTP answer, read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// errorCode returns the code of an {"error":{...}} body.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, ok := r.JSON(t)["error"].(map[string]any)
	require.True(t, ok, "no error object in %s", r.Body)
	return fmt.Sprint(e["code"])
}

type header map[string]string

// do sends a request; body may be nil, a string (sent as is) or a value sent as JSON.
func (a *testApp) do(method, path string, body any, h header) response {
	a.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(a.t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.URL+path, rd)
	require.NoError(a.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := a.httpc.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

var admin = header{"Authorization": "Bearer " + testAdminToken}

func (a *testApp) admin(method, path string, body any) response {
	a.t.Helper()
	return a.do(method, path, body, admin)
}

// putBrand creates a brand with settings merged over {"name": id}.
func (a *testApp) putBrand(id string, settings map[string]any) {
	a.t.Helper()
	body := map[string]any{"name": "Brand " + id}
	for k, v := range settings {
		body[k] = v
	}
	res := a.admin("PUT", "/api/admin/brands/"+id, body)
	require.Contains(a.t, []int{200, 201}, res.Status, "put brand: %s", res.Body)
}

// waitIdle waits until the queues have nothing ready or in flight, through the admin route
// operators use, never by sleeping a fixed time. It has no deadline of its own: how long the
// work takes depends on the machine, and go test's timeout reports a real hang.
func (a *testApp) waitIdle() {
	a.t.Helper()
	for {
		res := a.admin("GET", "/api/admin/queues", nil)
		require.Equal(a.t, 200, res.Status, "%s", res.Body)
		var body struct {
			Queues       map[string]struct{ Ready, InFlight int }
			ScrubPending bool
		}
		require.NoError(a.t, json.Unmarshal(res.Body, &body))
		busy := body.ScrubPending
		for _, q := range body.Queues {
			busy = busy || q.Ready > 0 || q.InFlight > 0
		}
		if !busy {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mails returns the outbox, oldest first.
func (a *testApp) mails() []outbox.Entry {
	a.t.Helper()
	a.waitIdle()
	entries, err := outbox.List(a.App.OutboxDir)
	require.NoError(a.t, err)
	return entries
}

// lastMailTo returns the newest mail to addr.
func (a *testApp) lastMailTo(addr string) outbox.Entry {
	a.t.Helper()
	m := a.mails()
	for i := len(m) - 1; i >= 0; i-- {
		if m[i].To == addr {
			return m[i]
		}
	}
	a.t.Fatalf("no mail in the outbox for the test address")
	return outbox.Entry{}
}
