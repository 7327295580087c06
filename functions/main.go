// Command handler is the popsell-gdpr Azure Functions custom handler. The Functions host
// starts it and talks to it over loopback HTTP; without Azure settings it runs everything
// in one process (local mode).
//
// main is only a shell: it reads the settings, listens, and runs the App that the end-to-end
// tests run too.
package main

import (
	"context"
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
	// Loopback only: the host dials 127.0.0.1, and the function routes trust their caller.
	ln, err := net.Listen("tcp", azfunc.LoopbackAddr(strconv.Itoa(cfg.Port)))
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

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: l}))
}
