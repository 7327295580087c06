// Command handler is the popsell-gdpr Azure Functions custom handler. The Functions host
// starts it and talks to it over loopback HTTP; without Azure settings it runs everything
// in one process (local mode).
//
// main is only a shell: it reads the settings, listens, and runs the App that the end-to-end
// tests run too.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Getenv)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, getenv func(string) string) int {
	cfg, err := config.Load(getenv)
	log := newLogger(cfg.LogLevel)
	if err != nil {
		log.Error("startup refused", "err", err)
		return 2
	}
	ln, err := listen(cfg.Port)
	if err != nil {
		log.Error("listen failed", "port", cfg.Port, "err", err)
		return 1
	}
	if err := NewApp(cfg, log).Run(ctx, ln); err != nil {
		log.Error("handler stopped", "err", err)
		return 1
	}
	log.Info("popsell-gdpr handler stopped")
	return 0
}

// listen binds port on loopback only: the host dials 127.0.0.1, and the function routes
// trust their caller. A port already taken (a second local instance, another program) is the
// usual failure, so the error names the setting that chooses the port.
func listen(port int) (net.Listener, error) {
	addr := azfunc.LoopbackAddr(strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err // "bind: address already in use", without the address said twice
		}
		return nil, fmt.Errorf("cannot listen on %s (%s=%d): %w; set %s to a free port",
			addr, config.EnvPort, port, err, config.EnvPort)
	}
	return ln, nil
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: l}))
}
