// Command handler is the popsell-gdpr Azure Functions custom handler. The Functions host
// starts it and talks to it over loopback HTTP; without Azure settings it runs everything
// in one process (local mode).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/config"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := config.Load(os.Getenv)
	log := newLogger(cfg.LogLevel)
	if err != nil {
		log.Error("startup refused", "err", err)
		return 2
	}
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		log.Error("listen failed", "port", cfg.Port, "err", err)
		return 1
	}
	// Serve before wiring: the host polls GET / and counts any answer as ready, so it starts
	// waiting on us as soon as the socket answers; other requests wait at the gate until the
	// stores are open, a few milliseconds later.
	gate := newStartGate()
	served := make(chan error, 1)
	go func() { served <- azfunc.Serve(ctx, ln, gate, 10*time.Second) }()

	app, err := NewApp(ctx, cfg, log)
	if err != nil {
		log.Error("startup failed", "err", err)
		gate.fail()
		return 1
	}
	defer app.Close()
	wait, err := app.Background(ctx)
	if err != nil {
		log.Error("startup failed", "err", err)
		gate.fail()
		return 1
	}
	gate.open(app.Handler)
	attrs := []any{"addr", ln.Addr().String(), "version", version, "azureMode", cfg.AzureMode()}
	if app.Queue != nil {
		attrs = append(attrs, "dataDir", cfg.DataDir, "outbox", app.OutboxDir)
	}
	log.Info("popsell-gdpr handler listening", attrs...)
	err = <-served
	stop()
	wait()
	if err != nil {
		log.Error("server stopped", "err", err)
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
