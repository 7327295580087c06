package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/outbox"
)

// envBeHandler makes the test binary run as the handler itself (main's run), so a test can
// kill a real process with SIGKILL and start it again on the same data directory.
const envBeHandler = "POPSELL_TEST_BE_HANDLER"

func TestMain(m *testing.M) {
	if os.Getenv(envBeHandler) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		code := run(ctx, os.Getenv)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// handlerProcess is the handler running as a child process.
type handlerProcess struct {
	cmd  *exec.Cmd
	addr string // as the handler logged it
	url  string
}

// startHandlerProcess runs the handler on dataDir and waits until it answers.
func startHandlerProcess(t *testing.T, dataDir string) *handlerProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envBeHandler+"=1")
	for k, v := range testEnv(dataDir) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, config.EnvLogLevel+"=info")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	p := &handlerProcess{cmd: cmd}
	t.Cleanup(func() { p.stop() })

	// The handler logs its address once it listens; the rest of its log is drained.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "popsell-gdpr handler listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		p.addr, p.url = a, "http://"+a
	case <-t.Context().Done():
		t.Fatal("the handler never listened")
	}
	return p
}

// kill ends the process as kill -9 does: no shutdown, no checkpoint, no scrub.
func (p *handlerProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	_ = p.cmd.Wait()
}

func (p *handlerProcess) stop() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	}
}

// TestHandlerListensOnLoopbackOnly is review finding 2 of #10: on every interface, another
// host could post crafted MailSender envelopes and mint tokens past the resend limit.
func TestHandlerListensOnLoopbackOnly(t *testing.T) {
	p := startHandlerProcess(t, t.TempDir())
	host, _, err := net.SplitHostPort(p.addr)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host)
}

// TestKillDuringErasureLeavesNothing is review finding 1 of #10: block members, move the clock
// past their grace period, kill -9 the process as soon as the erasure queue is empty, and
// start it again on the same data directory. Once it answers, no file of the data directory
// may hold an erased address or first name: the scrub that the killed process never ran
// happens at start.
func TestKillDuringErasureLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the handler as a process twice")
	}
	dir := t.TempDir()
	p := startHandlerProcess(t, dir)
	c := &testApp{t: t, URL: p.url, httpc: &http.Client{Timeout: 30 * time.Second}}
	c.putBrand("crash", nil)

	const members = 40
	var secrets []string
	for i := range members {
		person := newFakePerson()
		secrets = append(secrets, person.Email, person.First)
		require.Equal(t, 202, c.do("POST", "/api/brands/crash/signup", person.signup(), nil).Status)
		token := tokenOf(t, waitMailTo(t, c, dir, person.Email).Links[0])
		res := c.do("POST", "/api/brands/crash/signup/confirm", map[string]string{"token": token}, nil)
		require.Equal(t, 200, res.Status, "member %d: %s", i, res.Body)
		id := fmt.Sprint(res.JSON(t)["memberId"])
		res = c.admin("POST", "/api/admin/brands/crash/members/"+id+"/block", map[string]string{"reason": "unsubscribed"})
		require.Equal(t, 200, res.Status, "%s", res.Body)
	}
	c.setClock(t, time.Now().AddDate(0, 0, 8))
	waitErasureQueueEmpty(t, c)
	p.kill(t)

	p = startHandlerProcess(t, dir)
	c.URL = p.url
	require.Equal(t, 200, c.do("GET", "/api/health", nil, nil).Status)
	for _, s := range secrets {
		requireNoFileContains(t, dir, s, "")
	}
	res := c.admin("GET", "/api/admin/brands/crash/erasures", nil)
	require.Equal(t, 200, res.Status)
	var body struct{ Erasures []json.RawMessage }
	require.NoError(t, json.Unmarshal(res.Body, &body))
	require.Len(t, body.Erasures, members, "every member was erased, once")
}

// waitMailTo waits for the first mail to addr in the outbox of dataDir.
func waitMailTo(t *testing.T, c *testApp, dataDir, addr string) outbox.Entry {
	t.Helper()
	for {
		entries, err := outbox.List(filepath.Join(dataDir, "outbox"))
		if err == nil {
			for _, e := range entries {
				if e.To == addr && len(e.Links) > 0 {
					return e
				}
			}
		}
		select {
		case <-t.Context().Done():
			t.Fatal("no mail to the test address")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitErasureQueueEmpty polls the operator's view until no erasure job is ready, in flight or
// scheduled, and returns at once: the scrubber may not have run yet.
func waitErasureQueueEmpty(t *testing.T, c *testApp) {
	t.Helper()
	for {
		res := c.admin("GET", "/api/admin/queues", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		var body struct {
			Queues map[string]struct{ Ready, Scheduled, InFlight int }
		}
		require.NoError(t, json.Unmarshal(res.Body, &body))
		q := body.Queues["gdpr-erasure"]
		if q.Ready == 0 && q.Scheduled == 0 && q.InFlight == 0 {
			return
		}
		select {
		case <-t.Context().Done():
			t.Fatal("the erasure queue never emptied")
		case <-time.After(2 * time.Millisecond):
		}
	}
}
