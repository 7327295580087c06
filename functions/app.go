package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/httpapi"
	"popsell-gdpr/internal/ledgerstore"
	"popsell-gdpr/internal/localqueue"
	"popsell-gdpr/internal/password"
	"popsell-gdpr/internal/templates"
	"popsell-gdpr/internal/triggers"
	"popsell-gdpr/internal/warehouse"
)

// functionDefs are the function.json files, embedded so the local scheduler reads the same
// schedules as the Functions host.
//
//go:embed */function.json
var functionDefs embed.FS

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// App is the whole handler: the services over their adapters, the router, and in local mode
// the embedded queue consumers, scrubber and timer scheduler. main builds one and runs it;
// the end-to-end tests build and run it the same way.
type App struct {
	Config config.Config
	log    *slog.Logger

	// Set by Wire; read them once Run's Started channel is closed.
	Clock    gdpr.Clock
	Brands   *gdpr.BrandService
	Triggers triggers.Set
	Handler  http.Handler
	Store    gdpr.Store
	Blobs    blobstore.Store
	Ledger   *gdpr.LedgerService
	Restore  *gdpr.RestoreService
	// Exports is where export files live; ExportService produces and serves them.
	Exports       gdpr.ExportFiles
	ExportService *gdpr.ExportService
	Warehouse     *gdpr.WarehouseService
	Queue         *localqueue.Queue // nil in Azure mode
	TestClock     *gdpr.TestClock   // nil unless enabled
	OutboxDir     string            // empty when mail goes elsewhere

	adapters adapterNames

	scrubber *scrubber // nil unless the store keeps erased values in files of its own
	// cosmosPolicies see every request of the Cosmos DB client: the tests count them.
	cosmosPolicies []policy.Policy
	// brandCacheTTL is how long the brands' settings are trusted in this process
	// (gdpr.DefaultBrandCacheTTL when zero).
	brandCacheTTL time.Duration
	// startChecks ask the managed services, before Run serves, whether they are as the code
	// needs them; Wire alone touches no network.
	startChecks []func(context.Context) error
	closers     []func() error
	started     chan struct{}
	startErr    error
}

// NewApp configures an app; nothing is opened until Wire or Run.
func NewApp(cfg config.Config, log *slog.Logger) *App {
	return &App{Config: cfg, log: log, started: make(chan struct{})}
}

// Run serves on ln until ctx ends. It answers the host's readiness probe at once (the host
// polls GET / and counts any answer as ready), wires the adapters meanwhile — other requests
// wait at the start gate, a few milliseconds —, starts local mode's background work, and on
// the way out stops it and closes the adapters within a bound.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gate := newStartGate()
	served := make(chan error, 1)
	go func() { served <- azfunc.Serve(ctx, ln, gate, 10*time.Second) }()

	wait, err := a.start(ctx, ln)
	if err != nil {
		gate.fail()
		cancel()
		<-served
		wait()
		return errors.Join(err, a.Close())
	}
	gate.open(a.Handler)
	err = <-served
	cancel()
	wait()
	return errors.Join(err, a.Close())
}

// start wires the app, starts its background work and logs what runs, then reports through
// Started: whoever waits on Started finds the startup line written.
func (a *App) start(ctx context.Context, ln net.Listener) (wait func(), err error) {
	defer func() { a.startErr = err; close(a.started) }()
	if err := a.Wire(ctx); err != nil {
		return func() {}, err
	}
	for _, check := range a.startChecks {
		if err := check(ctx); err != nil {
			return func() {}, err
		}
	}
	wait, err = a.background(ctx)
	if err == nil {
		a.logListening(ln)
	}
	return wait, err
}

// Started is closed once Run has wired the app or failed to; StartErr then says which.
func (a *App) Started() <-chan struct{} { return a.started }

// StartErr is the wiring error of Run, once Started is closed.
func (a *App) StartErr() error { return a.startErr }

// logListening says what runs: the mode, each port's adapter and the switches that make a
// process unfit for production (the test clock, the demo seed). Never a secret or endpoint.
func (a *App) logListening(ln net.Listener) {
	mode := "local"
	if a.Config.AzureMode() {
		mode = "azure"
	}
	attrs := []any{"addr", ln.Addr().String(), "version", version, "mode", mode, a.adapters.attr(),
		"testClock", a.TestClock != nil, "seedDemo", a.Config.SeedDemo}
	if a.Queue != nil {
		attrs = append(attrs, "dataDir", a.Config.DataDir)
	}
	if a.OutboxDir != "" {
		attrs = append(attrs, "outbox", a.OutboxDir)
	}
	a.log.Info("popsell-gdpr handler listening", attrs...)
}

// Wire opens the adapters the configuration selects (adapters.go) and builds the services
// and the router over them.
func (a *App) Wire(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, a.Close())
		}
	}()
	cfg := a.Config
	a.Clock = gdpr.SystemClock{}
	if cfg.TestClock {
		a.TestClock = gdpr.NewTestClock()
		a.Clock = a.TestClock
	}
	o := opener{cfg: cfg, app: a}
	if a.Store, err = o.store(ctx); err != nil {
		return err
	}
	if a.Blobs, err = o.blobs(ctx); err != nil {
		return err
	}
	ledgerBlobs, err := o.ledger(ctx)
	if err != nil {
		return err
	}
	if a.Exports, err = o.exports(ctx); err != nil {
		return err
	}
	queue, err := o.queue()
	if err != nil {
		return err
	}
	keys := make([]gdpr.HashKey, len(cfg.HashKeys))
	for i, k := range cfg.HashKeys {
		keys[i] = gdpr.HashKey{Version: k.Version, Key: k.Key}
	}
	hasher, err := gdpr.NewKeyring(keys, cfg.HashKeysRetired)
	if err != nil {
		return err
	}
	mail, err := o.mailer(hasher)
	if err != nil {
		return err
	}
	// One copy of the brands' settings for every route and service of the process: each
	// request reads its brand, often twice (authentication, then the service).
	brands := gdpr.NewBrandCache(a.Store, a.brandCacheTTL, nil)
	core := gdpr.Core{Brands: brands, Hasher: hasher, Clock: a.Clock, Logger: a.log}
	if a.scrubber != nil {
		core.Erased = a.scrubber.request
	}
	warehouseBlobs, err := o.warehouse(ctx)
	if err != nil {
		return err
	}
	opts, err := a.services(core, queue, mail, ledgerstore.New(ledgerBlobs), warehouse.Files{Blobs: warehouseBlobs})
	if err != nil {
		return err
	}
	opts.HealthChecks = a.healthChecks(ledgerBlobs)
	a.Handler = httpapi.New(opts)
	if cfg.SeedDemo {
		return a.seedDemo(ctx)
	}
	return nil
}

// services builds the domain's services over the adapters (gdpr.NewServices hands each the
// ports it uses) and the router's options over them.
func (a *App) services(core gdpr.Core, queue gdpr.Queue, m mailAdapters, ledger gdpr.LedgerStore,
	warehouseFiles gdpr.WarehouseFiles) (httpapi.Options, error) {
	// One set of templates writes the pages and the mails; it parses a language when first used.
	presentation := templates.New()
	s, err := gdpr.NewServices(core, gdpr.Platform{Store: a.Store, Queue: queue, Blobs: a.Blobs, Mailer: m.mailer,
		SentMail: m.sent, Links: httpapi.Links{BaseURL: a.Config.PublicBaseURL}, Renderer: presentation,
		Passwords: boundedBcrypt(a.Config.BcryptCost), Ledger: ledger, Exports: a.Exports, MemberFiles: memberFiles{a.Blobs}})
	if err != nil {
		return httpapi.Options{}, err
	}
	a.ExportService = s.Exports
	a.Brands, a.Ledger, a.Restore = s.Brands, s.Ledger, s.Restore
	if a.Warehouse, err = gdpr.NewWarehouseService(core, a.Store, warehouseFiles); err != nil {
		return httpapi.Options{}, err
	}
	// Before serving: a store restored from a backup is behind the ledger, and is not served
	// until its erasures are replayed, in either mode (restore.go).
	a.startChecks = append(a.startChecks, func(ctx context.Context) error {
		_, err := a.Restore.Check(ctx)
		return err
	})
	a.Triggers = triggers.New(s.Erasure, s.ContactRetention, s.Mail, s.Retention, s.Ledger, s.Requests, s.Exports, a.Warehouse)
	opts := httpapi.Options{Brands: s.Brands, Blacklist: s.Blacklist, Signup: s.Signup, Retention: s.Retention, Erasure: s.Erasure,
		MailEvents: s.MailEvents, MailCallback: s.MailCallback, Provisioning: s.Provisioning, Webhooks: s.Webhooks,
		Contacts: s.Contacts, Ledger: s.Ledger, Restore: s.Restore, HashKeys: s.HashKeys, Requests: s.Requests, Exports: s.Exports, Requeue: queue,
		BaseURL: a.Config.PublicBaseURL, Pages: presentation,
		Triggers: a.Triggers, AdminToken: a.Config.AdminToken, Version: version, Logger: a.log, TestClock: a.TestClock}
	if a.Queue != nil {
		opts.QueueStats = a.queueStats
		opts.DeadLetters = localDeadLetters{a.Queue}
	}
	return opts, nil
}

// boundedBcrypt hashes on one goroutine fewer than there are cores (one at least), with a
// short queue: a signup flood then gets 503s instead of starving every other route, and one
// core stays free for them (password.Limited). With every core hashing, health's p99 during
// a flood was the scheduler's 10 ms time slice times the queue in front of it.
func boundedBcrypt(cost int) gdpr.PasswordHasher {
	slots := max(1, runtime.GOMAXPROCS(0)-1)
	return password.NewLimited(password.Bcrypt{Cost: cost}, slots, 4*slots, time.Second)
}

// seedDemo creates the demo brand of the README walk-through, once.
func (a *App) seedDemo(ctx context.Context) error {
	if _, err := a.Brands.GetBrand(ctx, "demo"); err == nil {
		return nil
	}
	_, _, err := a.Brands.PutBrand(ctx, "demo", gdpr.BrandSettings{Name: "Demo"})
	return err
}

// background starts what runs beside the server in local mode — queue consumers, the WAL
// scrubber, the timer scheduler — until ctx ends; wait blocks until they have stopped.
func (a *App) background(ctx context.Context) (wait func(), err error) {
	var wg sync.WaitGroup
	if a.Queue == nil {
		return wg.Wait, nil
	}
	if a.scrubber != nil {
		wg.Go(func() { a.scrubber.run(ctx) })
	}
	for _, f := range a.Triggers.Queues {
		wg.Go(func() {
			if a.awaitReplay(ctx) {
				a.consume(ctx, f)
			}
		})
	}
	return wg.Wait, a.startScheduler(ctx, &wg)
}

// replayPoll is how often local mode's consumers look whether a pending replay is done.
const replayPoll = time.Second

// awaitReplay holds local mode's consumers while a restored store waits for its replay: a
// queued mail must not reach a person the restore brought back. It reports false when ctx
// ends first.
func (a *App) awaitReplay(ctx context.Context) bool {
	for a.Restore.Pending(ctx) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(replayPoll):
		}
	}
	return true
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
func (a *App) consume(ctx context.Context, f triggers.Queue) {
	if f.HandleBatch == nil {
		_ = a.Queue.Consume(ctx, f.Queue, func(ctx context.Context, d localqueue.Delivery) error {
			return rejectUndeliverable(f.Handle(ctx, d.Body))
		}, concurrency)
		return
	}
	_ = a.Queue.ConsumeBatches(ctx, f.Queue, func(ctx context.Context, ds []localqueue.Delivery) []error {
		bodies := make([][]byte, len(ds))
		for i, d := range ds {
			bodies[i] = d.Body
		}
		return f.HandleBatch(ctx, bodies)
	}, batchSize, batchConcurrency)
}

// rejectUndeliverable dead-letters at once a mail its provider refused for good: retrying it
// would only be refused again. (Under the host, such a job fails every delivery and Service
// Bus dead-letters it after maxDeliveryCount.)
func rejectUndeliverable(err error) error {
	if errors.Is(err, gdpr.ErrUndeliverable) {
		return localqueue.Reject(err)
	}
	return err
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
	for _, f := range a.Triggers.Timers {
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
				a.fire(ctx, f)
			}
		})
	}
	return nil
}

// fire runs one firing of a timer function. A panic is logged without its value (it may hold
// whatever was being processed) and the schedule goes on, as the host's would: one bad run
// must not stop every later sweep, nor the process.
func (a *App) fire(ctx context.Context, f triggers.Timer) {
	defer func() {
		if v := recover(); v != nil {
			a.log.Error("timer function panicked", "function", f.Name)
		}
	}()
	if a.Restore.Pending(ctx) {
		a.log.Warn("timer function skipped: a restored store waits for its replay", "function", f.Name)
		return
	}
	if err := f.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		a.log.Error("timer function failed", "function", f.Name, "code", string(gdpr.ErrorCode(err)), "err", err)
	}
}

// queueStats is the operator's view of local mode: queue counts, and whether erased values
// may still sit in the store's write-ahead log.
func (a *App) queueStats(ctx context.Context) (any, error) {
	counts, err := a.Queue.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"queues": counts, "scrubPending": a.scrubber != nil && a.scrubber.pending()}, nil
}

// Close releases the adapters; closing twice is harmless.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
