package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/cosmosstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/httpapi"
	"popsell-gdpr/internal/localqueue"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/outbox"
	"popsell-gdpr/internal/password"
	"popsell-gdpr/internal/servicebus"
)

// functionDefs are the function.json files, embedded so the local scheduler reads the same
// schedules as the Functions host.
//
//go:embed */function.json
var functionDefs embed.FS

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// App is the whole handler: the service over its adapters, the router, and in local mode the
// embedded queue consumers and timer scheduler.
type App struct {
	Config    config.Config
	Service   *gdpr.Service
	Handler   http.Handler
	Store     gdpr.Store
	Blobs     gdpr.Blobs
	Queue     *localqueue.Queue // nil in Azure mode
	TestClock *gdpr.TestClock   // nil unless enabled
	OutboxDir string            // empty when mail goes elsewhere

	log      *slog.Logger
	closers  []func() error
	scrubber *scrubber
}

// NewApp builds the adapters the configuration selects and wires them.
func NewApp(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *App, err error) {
	a := &App{Config: cfg, log: log}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	var clock gdpr.Clock = gdpr.SystemClock{}
	if cfg.TestClock {
		a.TestClock = gdpr.NewTestClock()
		clock = a.TestClock
	}
	if !cfg.AzureMode() {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	var cred azcore.TokenCredential
	credential := func() (azcore.TokenCredential, error) {
		if cred == nil {
			// Managed identity only: no fallback to developer or environment credentials in
			// production, and no keys in settings.
			opts := &azidentity.ManagedIdentityCredentialOptions{}
			if cfg.ManagedID != "" {
				opts.ID = azidentity.ClientID(cfg.ManagedID)
			}
			c, err := azidentity.NewManagedIdentityCredential(opts)
			if err != nil {
				return nil, fmt.Errorf("managed identity: %w", err)
			}
			cred = c
		}
		return cred, nil
	}

	store, err := a.openStore(ctx, cfg, credential)
	if err != nil {
		return nil, err
	}
	a.Store = store
	a.scrubber = newScrubber(store, log)
	blobs, err := a.openBlobs(ctx, cfg, credential)
	if err != nil {
		return nil, err
	}
	a.Blobs = blobs
	var queue gdpr.Queue
	if cfg.ServiceBus.Enabled() {
		c, err := credential()
		if err != nil {
			return nil, err
		}
		client, err := servicebus.NewClientWithCredential(cfg.ServiceBus.Namespace, c)
		if err != nil {
			return nil, fmt.Errorf("service bus: %w", err)
		}
		sb := servicebus.New(client)
		a.closers = append(a.closers, func() error { return sb.Close(context.Background()) })
		queue = sb
	} else {
		q, err := localqueue.Open(filepath.Join(cfg.DataDir, "queue.db"), localqueue.Options{Now: clock.Now, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("local queue: %w", err)
		}
		a.Queue, queue = q, q
		a.closers = append(a.closers, q.Close)
	}
	var mailer gdpr.Mailer = noMailProvider{}
	if !cfg.AzureMode() {
		a.OutboxDir = filepath.Join(cfg.DataDir, "outbox")
		box, err := outbox.New(a.OutboxDir)
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		box.Clock = clock
		mailer = box
	}
	hasher, err := gdpr.NewHasher(cfg.HashKeyID, cfg.HashKey)
	if err != nil {
		return nil, err
	}
	a.Service, err = gdpr.NewService(gdpr.Deps{
		Store: store, Queue: queue, Mailer: mailer, Blobs: blobs,
		Passwords: password.Bcrypt{Cost: cfg.BcryptCost}, Hasher: hasher, Clock: clock,
		Logger: log, PublicBaseURL: cfg.PublicBaseURL,
	})
	if err != nil {
		return nil, err
	}
	opts := httpapi.Options{Service: a.Service, AdminToken: cfg.AdminToken, Version: version, Logger: log, TestClock: a.TestClock}
	if a.Queue != nil {
		opts.QueueStats = a.queueStats
	}
	a.Handler = httpapi.New(opts)
	if cfg.SeedDemo {
		if err := a.seedDemo(ctx); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *App) openStore(ctx context.Context, cfg config.Config, credential func() (azcore.TokenCredential, error)) (gdpr.Store, error) {
	if !cfg.Cosmos.Enabled() {
		s, err := localstore.Open(filepath.Join(cfg.DataDir, "popsell.db"))
		if err != nil {
			return nil, fmt.Errorf("local store: %w", err)
		}
		a.closers = append(a.closers, s.Close)
		return s, nil
	}
	if cfg.Cosmos.Key != "" {
		// Emulator: the schema is ours to create. In Azure, Bicep creates it and the
		// identity has data-plane rights only.
		client, err := cosmosstore.NewClientWithKey(cfg.Cosmos.Endpoint, cfg.Cosmos.Key)
		if err != nil {
			return nil, fmt.Errorf("cosmos: %w", err)
		}
		s, err := cosmosstore.New(client, cfg.Cosmos.Database)
		if err != nil {
			return nil, fmt.Errorf("cosmos: %w", err)
		}
		if err := s.EnsureSchema(ctx); err != nil {
			return nil, fmt.Errorf("cosmos schema: %w", err)
		}
		return s, nil
	}
	c, err := credential()
	if err != nil {
		return nil, err
	}
	client, err := cosmosstore.NewClientWithCredential(cfg.Cosmos.Endpoint, c)
	if err != nil {
		return nil, fmt.Errorf("cosmos: %w", err)
	}
	return cosmosstore.New(client, cfg.Cosmos.Database)
}

func (a *App) openBlobs(ctx context.Context, cfg config.Config, credential func() (azcore.TokenCredential, error)) (gdpr.Blobs, error) {
	switch {
	case cfg.Blob.ConnectionString != "":
		b, err := blobstore.NewAzureFromConnectionString(cfg.Blob.ConnectionString, cfg.Blob.Container)
		if err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
		return b, b.EnsureContainer(ctx)
	case cfg.Blob.ServiceURL != "":
		c, err := credential()
		if err != nil {
			return nil, err
		}
		return blobstore.NewAzureWithCredential(cfg.Blob.ServiceURL, c, cfg.Blob.Container)
	}
	return blobstore.NewFolder(filepath.Join(cfg.DataDir, "blobs")), nil
}

// seedDemo creates the demo brand of the README walk-through, once.
func (a *App) seedDemo(ctx context.Context) error {
	if _, err := a.Service.GetBrand(ctx, "demo"); err == nil {
		return nil
	}
	_, _, err := a.Service.PutBrand(ctx, "demo", gdpr.BrandSettings{Name: "Demo"})
	return err
}

// Run serves until ctx ends, then shuts down within a bound. In local mode it also consumes
// the embedded queues and fires the timer functions on their schedules.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wait, err := a.Background(ctx)
	if err != nil {
		return err
	}
	err = azfunc.Serve(ctx, ln, a.Handler, 10*time.Second)
	cancel()
	wait()
	return err
}

// Background starts what runs beside the server in local mode — queue consumers, the WAL
// scrubber, the timer scheduler — until ctx ends; wait blocks until they have stopped.
func (a *App) Background(ctx context.Context) (wait func(), err error) {
	var wg sync.WaitGroup
	if a.Queue != nil {
		wg.Go(func() { a.scrubber.run(ctx) })
		for _, f := range httpapi.QueueFunctions(a.Service) {
			wg.Go(func() { a.consume(ctx, f) })
		}
		if err := a.startScheduler(ctx, &wg); err != nil {
			return wg.Wait, err
		}
	}
	return wg.Wait, nil
}

// Local mode's consumers: batches of this size, this many at once, for functions that take
// batches; others get this many single messages at once. Two erasure batches keep both the
// single SQLite writer and a second core busy (BenchmarkErasureWorkerLocalMode).
const (
	batchSize        = 100
	batchConcurrency = 2
	concurrency      = 4
)

// consume feeds a queue function from the embedded queue until ctx ends.
func (a *App) consume(ctx context.Context, f httpapi.QueueFunction) {
	erased := func() {
		if f.Queue == gdpr.QueueErasure {
			a.scrubber.request()
		}
	}
	if f.HandleBatch == nil {
		_ = a.Queue.Consume(ctx, f.Queue, func(ctx context.Context, d localqueue.Delivery) error {
			defer erased()
			return f.Handle(ctx, d.Body)
		}, concurrency)
		return
	}
	_ = a.Queue.ConsumeBatches(ctx, f.Queue, func(ctx context.Context, ds []localqueue.Delivery) []error {
		defer erased()
		bodies := make([][]byte, len(ds))
		for i, d := range ds {
			bodies[i] = d.Body
		}
		return f.HandleBatch(ctx, bodies)
	}, batchSize, batchConcurrency)
}

// startScheduler fires each timer function at the times of its function.json schedule (wall
// clock, like the host's timer trigger).
func (a *App) startScheduler(ctx context.Context, wg *sync.WaitGroup) error {
	defs, err := azfunc.LoadFunctions(functionDefs)
	if err != nil {
		return err
	}
	byName := map[string]azfunc.Function{}
	for _, d := range defs {
		byName[d.Name] = d
	}
	for _, f := range httpapi.TimerFunctions(a.Service) {
		def, ok := byName[f.Name]
		if !ok || !def.IsTimer() {
			return fmt.Errorf("timer function %s has no timer function.json", f.Name)
		}
		sched, err := azfunc.ParseSchedule(def.Trigger().Schedule)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		wg.Go(func() {
			for {
				next := sched.Next(time.Now())
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				if err := f.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
					a.log.Error("timer function failed", "function", f.Name, "code", string(gdpr.ErrorCode(err)), "err", err)
				}
			}
		})
	}
	return nil
}

// queueStats is the operator's view of local mode: queue counts, and whether erased values
// may still sit in the store's write-ahead log.
func (a *App) queueStats(ctx context.Context) (any, error) {
	counts, err := a.Queue.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"queues": counts, "scrubPending": a.scrubber.pending()}, nil
}

// noMailProvider stands in for Mailjet in Azure mode until Mailjet delivery lands (its own
// issue): the file outbox would write recipients' addresses to the instance's disk. Mail jobs
// fail, are retried, then dead-lettered with ids only, and nothing is lost or leaked.
type noMailProvider struct{}

func (noMailProvider) Send(context.Context, gdpr.Mail) error {
	return gdpr.Errorf(gdpr.CodeUnavailable, "no mail provider is configured in Azure mode yet")
}

// Close releases the adapters.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
