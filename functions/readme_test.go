package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
)

// walkThrough is one ```sh block under a "Walk-through" heading of the README.
type walkThrough struct {
	heading string
	line    int // of the block's opening fence, for the failure message
	script  string
}

var walkThroughHeading = regexp.MustCompile(`^#+ Walk-through`)

// readmeWalkThroughs returns every ```sh block that follows a "Walk-through" heading, up to
// the next heading, in the README's order. It fails the test on a walk-through without one.
func readmeWalkThroughs(t *testing.T, readme string) []walkThrough {
	t.Helper()
	var (
		blocks   []walkThrough
		heading  string // the walk-through we are in, "" outside one
		counted  = map[string]int{}
		inFence  bool
		shFence  bool
		body     strings.Builder
		fenceAt  int
		headings []string
	)
	for i, line := range strings.Split(readme, "\n") {
		switch {
		case !inFence && strings.HasPrefix(line, "```"):
			inFence, shFence, fenceAt = true, strings.TrimSpace(line) == "```sh", i+1
			body.Reset()
		case inFence && strings.TrimSpace(line) == "```":
			inFence = false
			if shFence && heading != "" {
				blocks = append(blocks, walkThrough{heading: heading, line: fenceAt, script: body.String()})
				counted[heading]++
			}
		case inFence:
			body.WriteString(line + "\n")
		case strings.HasPrefix(line, "#"):
			heading = ""
			if walkThroughHeading.MatchString(line) {
				heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
				headings = append(headings, heading)
			}
		}
	}
	require.False(t, inFence, "README.md ends inside a code block")
	for _, h := range headings {
		require.NotZero(t, counted[h], "README walk-through %q has no ```sh block", h)
	}
	return blocks
}

// walkThroughTools are the programs the README says its examples use.
var walkThroughTools = []string{"bash", "curl", "jq", "openssl", "xxd", "date", "base64"}

// requireWalkThroughTools skips (locally) or fails (in CI) when a tool is missing, naming it.
func requireWalkThroughTools(t *testing.T) {
	t.Helper()
	var missing []string
	for _, tool := range walkThroughTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		// The examples use GNU date's -d and %N; BSD date has neither.
		if out, err := exec.Command("date", "--version").Output(); err != nil || !bytes.Contains(out, []byte("GNU")) {
			missing = append(missing, "GNU date")
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("the README walk-throughs need %s, missing here", strings.Join(missing, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (CI is unset, so this skips)")
}

// carryState wraps a walk-through so that the variables and functions it sets reach the next
// one, as they would in the one terminal a reader pastes them into. Names present before the
// saved state is read (the environment, bash's own) are not carried; neither are bash's
// dynamic ones that appear later (PIPESTATUS…) nor the wrapper's, which start with __.
const carryState = `__known=" $(compgen -A variable | tr '\n' ' ') $( (compgen -A function || true) | tr '\n' ' ') "
__carry() {
  local __n
  for __n in $(compgen -A variable); do
    case "$__known" in *" $__n "*) continue;; esac
    case "$__n" in __*|BASH_*|FUNCNAME|PIPESTATUS|REPLY|OPTARG|COLUMNS|LINES) continue;; esac
    declare -p "$__n"
  done
  for __n in $(compgen -A function || true); do
    case "$__n" in __*) continue;; esac
    case "$__known" in *" $__n "*) continue;; esac
    declare -f "$__n"
  done
}
trap '__carry > "$__STATE.next"' EXIT
source "$__STATE"
`

// TestReadmeWalkThroughs is issue #17 item 10: every walk-through of the README runs, in
// order, against the real handler in local mode, as a reader would run them: one shell, the
// demo brand, the development admin token, the test clock on, ./.local as the data directory.
// Each block runs under bash -euo pipefail and must succeed; the blocks check their own
// answers, so a changed API fails here before it misleads an integrator.
func TestReadmeWalkThroughs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the handler as a process and every README walk-through against it")
	}
	requireWalkThroughTools(t)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	blocks := readmeWalkThroughs(t, string(readme))

	work := t.TempDir()
	p, port := startReadmeHandler(t, filepath.Join(work, ".local"))
	state := filepath.Join(work, ".walkthrough-state")
	require.NoError(t, os.WriteFile(state, nil, 0o600))

	for i, b := range blocks {
		ok := t.Run(fmt.Sprintf("%02d_%s", i+1, b.heading), func(t *testing.T) {
			script := carryState + strings.ReplaceAll(b.script, "localhost:7071", "localhost:"+strconv.Itoa(port))
			cmd := exec.CommandContext(t.Context(), "bash", "-euo", "pipefail", "-c", script)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "__STATE="+state)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("README.md line %d (%s) failed: %v\n--- its output:\n%s\n--- the handler's log, last lines:\n%s",
					b.line, b.heading, err, out, p.logTail())
			}
			t.Logf("output of README.md line %d:\n%s", b.line, out)
			require.NoError(t, os.Rename(state+".next", state))
		})
		if !ok {
			break // the later walk-throughs build on this one
		}
	}
	require.True(t, p.running(), "the handler stopped during the walk-throughs:\n%s", p.logTail())
}

// readmeHandler is the handler process the walk-throughs talk to.
type readmeHandler struct {
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

func (p *readmeHandler) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *readmeHandler) logTail() string {
	lines := strings.Split(strings.TrimSpace(p.log.String()), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// startReadmeHandler runs the handler (this test binary, as main's run) with `make run`'s
// settings on a free loopback port, and waits until it listens. A port taken between the
// choice and the bind is chosen again: the handler then stops with its bind error.
func startReadmeHandler(t *testing.T, dataDir string) (*readmeHandler, int) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port := freeLoopbackPort(t)
		p, listening := startReadmeHandlerOn(t, dataDir, port)
		if listening {
			return p, port
		}
		if attempt == 3 || !strings.Contains(p.log.String(), "address already in use") {
			t.Fatalf("the handler did not start:\n%s", p.logTail())
		}
	}
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func startReadmeHandlerOn(t *testing.T, dataDir string, port int) (*readmeHandler, bool) {
	t.Helper()
	env := map[string]string{ // the Makefile's development values, as `make run` sets them
		config.EnvPort:       strconv.Itoa(port),
		config.EnvDataDir:    dataDir,
		config.EnvAdminToken: "local-admin-token-change-me",
		config.EnvHashKey:    "6c6f63616c2d6465762d6f6e6c792d6b65792d6e6f742d666f722d70726f6421",
		config.EnvTestClock:  "1",
		config.EnvSeedDemo:   "1",
		config.EnvBcryptCost: "4", // bcrypt's floor: the walk-throughs prove the flow, not the cost
		config.EnvLogLevel:   "info",
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(withoutHandlerSettings(os.Environ()), envBeHandler+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	p := &readmeHandler{cmd: cmd, log: &lockedBuffer{}, done: make(chan struct{})}

	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(p.log, sc.Text())
			var line struct{ Msg string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "popsell-gdpr handler listening" {
				listening <- true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(p.done)
		listening <- false
	}()
	t.Cleanup(func() {
		if p.running() {
			_ = cmd.Process.Signal(os.Interrupt)
			<-p.done
		}
	})
	return p, <-listening
}

// withoutHandlerSettings drops the handler's settings from the developer's environment: Mailjet
// keys there would mail the walk-throughs' addresses for real, Azure settings leave local mode.
func withoutHandlerSettings(environ []string) []string {
	var kept []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "POPSELL_") && !strings.HasPrefix(name, "POPSELL_TEST_"),
			strings.HasPrefix(name, "MJ_APIKEY_"), strings.HasPrefix(name, "GDPR_"),
			strings.HasPrefix(name, "ServiceBusConnection"), name == config.EnvClientID, name == config.EnvPort:
			continue
		}
		kept = append(kept, kv)
	}
	return kept
}

// TestReadmeWalkThroughsAreFound guards the extractor: a walk-through whose block were
// skipped would pass unrun.
func TestReadmeWalkThroughsAreFound(t *testing.T) {
	md := "# T\n\n### Walk-through: one\n\ntext\n\n```sh\necho one\n# a comment, not a heading\n```\n\n" +
		"```json\n{}\n```\n\n```sh\necho two\n```\n\n## Other\n\n```sh\necho not a walk-through\n```\n" +
		"### Walk-through: three\n```sh\necho three\n```\n"
	blocks := readmeWalkThroughs(t, md)
	require.Len(t, blocks, 3)
	require.Equal(t, "Walk-through: one", blocks[0].heading)
	require.Equal(t, "echo one\n# a comment, not a heading\n", blocks[0].script)
	require.Equal(t, "echo two\n", blocks[1].script)
	require.Equal(t, "Walk-through: three", blocks[2].heading)
	require.Equal(t, 26, blocks[2].line, "the opening fence's line")
}
