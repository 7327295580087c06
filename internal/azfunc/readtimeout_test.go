package azfunc

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeDropsATricklingPeer is review finding 2 of #10: a peer that sends headers and one
// byte of a large body held its connection for minutes. The read bound (short here, the real
// one is ReadTimeout) ends the request; the handler sees a read error, the connection closes.
func TestServeDropsATricklingPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	readErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	})
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, h, time.Second, 50*time.Millisecond) }()
	defer func() { cancel(); <-done }()

	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "POST /MailSender HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n{")
	require.NoError(t, err)
	require.Error(t, <-readErr, "the body read is cut at the bound")
	// The server closes the connection: a read sees EOF or a reset, never a hang.
	_, err = io.ReadAll(c)
	require.NoError(t, err)
}
