package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
)

// TestBindErrorNamesThePortSetting is issue #17 item 10: a second local instance on a taken
// port must say which setting picks the port, so the integrator knows what to change. The
// real handler process is started on a port this test holds; it must stop with exit code 1
// and log one error naming FUNCTIONS_CUSTOMHANDLER_PORT and the port.
func TestBindErrorNamesThePortSetting(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(withoutHandlerSettings(os.Environ()), envBeHandler+"=1")
	for k, v := range testEnv(t.TempDir()) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, config.EnvPort+"="+strconv.Itoa(port), config.EnvLogLevel+"=info")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the handler must fail on a taken port, got %v; log: %s", err, stdout.String())
	require.Equal(t, 1, exit.ExitCode())

	var logged []struct{ Level, Msg, Err string }
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var line struct{ Level, Msg, Err string }
		require.NoError(t, dec.Decode(&line))
		if line.Level == "ERROR" {
			logged = append(logged, line)
		}
	}
	require.Len(t, logged, 1, "one error line")
	require.Equal(t, "listen failed", logged[0].Msg)
	require.Contains(t, logged[0].Err, config.EnvPort+"="+strconv.Itoa(port), "the setting and the port it held")
	require.Contains(t, logged[0].Err, "address already in use")
	require.Contains(t, logged[0].Err, "set "+config.EnvPort+" to a free port")
}

// TestListenErrorKeepsTheCause: callers can still tell why the bind failed.
func TestListenErrorKeepsTheCause(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	_, err = listen(taken.Addr().(*net.TCPAddr).Port)
	require.Error(t, err)
	var sys *os.SyscallError
	require.True(t, errors.As(err, &sys), "the bind error is wrapped, not flattened: %v", err)
}
