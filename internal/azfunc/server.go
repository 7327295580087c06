package azfunc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// ListenAddr is where the host expects us: the port it picked and passed in
// FUNCTIONS_CUSTOMHANDLER_PORT, or 7071 for a local run without a host, on
// 127.0.0.1 only. The host dials 127.0.0.1 (WorkerConstants.HostName in
// azure-functions-host), and nothing else may reach the function routes,
// which trust whoever calls them: on every interface, another host could post
// crafted MailSender envelopes.
func ListenAddr() string {
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "7071"
	}
	return LoopbackAddr(port)
}

// LoopbackAddr is port on 127.0.0.1.
func LoopbackAddr(port string) string { return net.JoinHostPort("127.0.0.1", port) }

// ReadTimeout bounds reading one request, headers and body. The host writes a whole
// envelope at once over loopback; a peer that trickles a body holds a connection and its
// buffers, and 2,000 of them held every one for minutes before this bound.
const ReadTimeout = 15 * time.Second

// Readiness answers the host's start-up poll of GET /. The host accepts any
// response, even a 404, but an explicit 200 makes the route's purpose plain
// and gives humans and probes a real answer. Mount it on "GET /{$}".
func Readiness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"status":"ready"}`))
	})
}

// Serve runs h on ln until ctx is cancelled, then shuts down gracefully:
// in-flight invocations get up to shutdownTimeout to finish, because an
// invocation cut short is retried by the host anyway but wastes the work.
// Past the bound, request contexts are cancelled, connections are closed
// and an error wrapping context.DeadlineExceeded is returned.
//
// Reading a request is bounded by ReadTimeout; there is deliberately no write
// timeout: the host bounds each invocation with functionTimeout, and an
// invocation may rightly take minutes.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, shutdownTimeout time.Duration) error {
	return serve(ctx, ln, h, shutdownTimeout, ReadTimeout)
}

func serve(ctx context.Context, ln net.Listener, h http.Handler, shutdownTimeout, readTimeout time.Duration) error {
	requests, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, readTimeout),
		ReadTimeout:       readTimeout,
		// Longer than the host's HttpClient keeps idle connections
		// (1–2 min in .NET), so the host closes them first and never
		// sends an invocation into a connection we are closing.
		IdleTimeout: 3 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return requests },
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("azfunc: serve: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if err != nil {
		abandon()
		_ = srv.Close()
		err = fmt.Errorf("azfunc: in-flight requests outlived the %v shutdown bound: %w", shutdownTimeout, err)
	}
	<-served
	return err
}
