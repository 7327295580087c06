package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/cosmosstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localqueue"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/mailjet"
	"popsell-gdpr/internal/outbox"
	"popsell-gdpr/internal/servicebus"
	"popsell-gdpr/internal/warehouse"
)

// opener opens the adapter of each port that the configuration selects: the embedded one in
// local mode, the Azure service where its settings are present. Each registers its closer
// with the app.
type opener struct {
	cfg    config.Config
	app    *App
	cred   azcore.TokenCredential
	locked bool // the data directory is this process's (dataDir)
}

// credential is the managed identity, made once on first use. No fallback to developer or
// environment credentials in production, and no keys in settings.
func (o *opener) credential() (azcore.TokenCredential, error) {
	if o.cred != nil {
		return o.cred, nil
	}
	opts := &azidentity.ManagedIdentityCredentialOptions{}
	if o.cfg.ManagedID != "" {
		opts.ID = azidentity.ClientID(o.cfg.ManagedID)
	}
	c, err := azidentity.NewManagedIdentityCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("managed identity: %w", err)
	}
	o.cred = c
	return c, nil
}

// dataDir creates local mode's data directory, owner-only: it holds personal data.
func (o *opener) dataDir() error {
	if o.locked {
		return nil
	}
	if err := os.MkdirAll(o.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	release, err := lockDataDir(o.cfg.DataDir)
	if err != nil {
		return err
	}
	o.locked, o.app.closers = true, append(o.app.closers, release)
	return nil
}

func (o *opener) store(ctx context.Context) (gdpr.Store, error) {
	if !o.cfg.Cosmos.Enabled() {
		return o.localStore()
	}
	if o.cfg.Cosmos.Key != "" {
		// Emulator: the schema is ours to create. In Azure, Bicep creates it and the identity
		// has data-plane rights only.
		client, err := cosmosstore.NewClientWithKey(o.cfg.Cosmos.Endpoint, o.cfg.Cosmos.Key, o.app.cosmosPolicies...)
		if err != nil {
			return nil, fmt.Errorf("cosmos: %w", err)
		}
		s, err := cosmosstore.New(client, o.cfg.Cosmos.Database)
		if err != nil {
			return nil, fmt.Errorf("cosmos: %w", err)
		}
		if err := s.EnsureSchema(ctx); err != nil {
			return nil, fmt.Errorf("cosmos schema: %w", err)
		}
		o.app.adapters.Store = "cosmos-emulator"
		return s, nil
	}
	c, err := o.credential()
	if err != nil {
		return nil, err
	}
	client, err := cosmosstore.NewClientWithCredential(o.cfg.Cosmos.Endpoint, c, o.app.cosmosPolicies...)
	if err != nil {
		return nil, fmt.Errorf("cosmos: %w", err)
	}
	st, err := cosmosstore.New(client, o.cfg.Cosmos.Database)
	if err != nil {
		return nil, fmt.Errorf("cosmos: %w", err)
	}
	// Bicep made the schema; a misnamed container would answer 404 to every call and the
	// erasure worker would complete jobs with nothing erased. Run checks it before serving.
	o.app.startChecks = append(o.app.startChecks, func(ctx context.Context) error {
		if err := st.Verify(ctx); err != nil {
			return fmt.Errorf("cosmos schema: %w", err)
		}
		return nil
	})
	o.app.adapters.Store = "cosmos"
	return st, nil
}

// localStore opens the embedded store, whose files keep erased values until the scrubber
// checkpoints them away: erased means gone from every file.
func (o *opener) localStore() (gdpr.Store, error) {
	if err := o.dataDir(); err != nil {
		return nil, err
	}
	s, err := localstore.Open(filepath.Join(o.cfg.DataDir, "popsell.db"))
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	o.app.closers = append(o.app.closers, s.Close)
	o.app.scrubber = newScrubber(s, o.app.log)
	o.app.adapters.Store = "sqlite"
	return s, nil
}

func (o *opener) blobs(ctx context.Context) (blobstore.Store, error) {
	switch b := o.cfg.Blob; {
	case b.ConnectionString != "":
		s, err := blobstore.NewAzureFromConnectionString(b.ConnectionString, b.Container)
		if err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
		o.app.adapters.Blobs = "azurite"
		return s, s.EnsureContainer(ctx)
	case b.ServiceURL != "":
		c, err := o.credential()
		if err != nil {
			return nil, err
		}
		o.app.adapters.Blobs = "azure-blob"
		return blobstore.NewAzureWithCredential(b.ServiceURL, c, b.Container)
	}
	if err := o.dataDir(); err != nil {
		return nil, err
	}
	o.app.adapters.Blobs = "folder"
	return blobstore.NewFolder(filepath.Join(o.cfg.DataDir, "blobs")), nil
}

// LedgerContainer is the blob container of the erasure ledger, beside the blob container of
// the settings in the same account; Bicep gives it a time-based immutability policy.
const LedgerContainer = "ledger"

// ledgerContainer is LedgerContainer in Azure. Against Azurite, whose one account every local
// instance and test shares, it is named after the instance's own blob container: two
// instances' ledgers (and a restored store's check against its ledger) never mix.
func (o *opener) ledgerContainer() string {
	if o.cfg.Blob.ConnectionString != "" {
		return o.cfg.Blob.Container + "-" + LedgerContainer
	}
	return LedgerContainer
}

// ledger is where the erasure ledger is kept, outside the database so that it survives a
// restore of it: the ledger container of the blob account, or a folder of the data directory.
func (o *opener) ledger(ctx context.Context) (blobstore.CreateOnly, error) {
	switch b := o.cfg.Blob; {
	case b.ConnectionString != "":
		s, err := blobstore.NewAzureFromConnectionString(b.ConnectionString, o.ledgerContainer())
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		return s, s.EnsureContainer(ctx)
	case b.ServiceURL != "":
		c, err := o.credential()
		if err != nil {
			return nil, err
		}
		return blobstore.NewAzureWithCredential(b.ServiceURL, c, LedgerContainer)
	}
	if err := o.dataDir(); err != nil {
		return nil, err
	}
	return blobstore.NewFolder(filepath.Join(o.cfg.DataDir, "ledger")), nil
}

// ExportsContainer is the blob container of exports, beside the settings' one in the same
// account: Bicep gives it a lifecycle rule that deletes its blobs two days after their
// creation, behind the service's own deletion at expiry (R-ACCESS-3).
const ExportsContainer = "exports"

// exports is where export files live, apart from every other blob: the exports container
// (against Azurite, named after the instance's own container, as the ledger's), or the
// exports/ folder of the data directory.
func (o *opener) exports(ctx context.Context) (gdpr.ExportFiles, error) {
	switch b := o.cfg.Blob; {
	case b.ConnectionString != "":
		s, err := blobstore.NewAzureFromConnectionString(b.ConnectionString, b.Container+"-"+ExportsContainer)
		if err != nil {
			return nil, fmt.Errorf("exports: %w", err)
		}
		return exportFiles{s}, s.EnsureContainer(ctx)
	case b.ServiceURL != "":
		c, err := o.credential()
		if err != nil {
			return nil, err
		}
		s, err := blobstore.NewAzureWithCredential(b.ServiceURL, c, ExportsContainer)
		return exportFiles{s}, err
	}
	if err := o.dataDir(); err != nil {
		return nil, err
	}
	return exportFiles{blobstore.NewFolder(filepath.Join(o.cfg.DataDir, "exports"))}, nil
}

// blobStreams are the streamed reads and writes both blob adapters offer.
type blobStreams interface {
	PutStream(ctx context.Context, key string, r io.Reader, contentType string) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// exportFiles and memberFiles give the domain blobstore's streams, a missing blob reported
// as the domain's not-found.
type exportFiles struct{ blobStreams }

func (f exportFiles) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return openBlob(ctx, f.blobStreams, key)
}

type memberFiles struct{ blobStreams }

func (f memberFiles) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return openBlob(ctx, f.blobStreams, key)
}

func openBlob(ctx context.Context, s blobStreams, key string) (io.ReadCloser, error) {
	r, err := s.Open(ctx, key)
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, gdpr.ErrNotFound
	}
	return r, err
}

// WarehouseContainer is the blob container of the warehouse export (R-DWH-1…3): its own, so
// that the warehouse team's identity reads it and nothing else.
const WarehouseContainer = "warehouse"

// warehouseContainer is WarehouseContainer in Azure; against Azurite, named after the
// instance's own blob container, as the ledger's is.
func (o *opener) warehouseContainer() string {
	if o.cfg.Blob.ConnectionString != "" {
		return o.cfg.Blob.Container + "-" + WarehouseContainer
	}
	return WarehouseContainer
}

// warehouse is where the warehouse export's files go: the warehouse container of the blob
// account, or the warehouse folder of the data directory.
func (o *opener) warehouse(ctx context.Context) (warehouse.Blobs, error) {
	switch b := o.cfg.Blob; {
	case b.ConnectionString != "":
		s, err := blobstore.NewAzureFromConnectionString(b.ConnectionString, o.warehouseContainer())
		if err != nil {
			return nil, fmt.Errorf("warehouse: %w", err)
		}
		return s, s.EnsureContainer(ctx)
	case b.ServiceURL != "":
		c, err := o.credential()
		if err != nil {
			return nil, err
		}
		return blobstore.NewAzureWithCredential(b.ServiceURL, c, WarehouseContainer)
	}
	if err := o.dataDir(); err != nil {
		return nil, err
	}
	return blobstore.NewFolder(filepath.Join(o.cfg.DataDir, "warehouse")), nil
}

// queue is Service Bus in Azure mode; local mode's embedded queue is also kept on the app,
// whose consumers feed the queue functions.
func (o *opener) queue() (gdpr.Queue, error) {
	if o.cfg.ServiceBus.Enabled() {
		c, err := o.credential()
		if err != nil {
			return nil, err
		}
		client, err := servicebus.NewClientWithCredential(o.cfg.ServiceBus.Namespace, c)
		if err != nil {
			return nil, fmt.Errorf("service bus: %w", err)
		}
		sb := servicebus.New(client)
		o.app.closers = append(o.app.closers, func() error { return sb.Close(context.Background()) })
		o.app.adapters.Queue = "service-bus"
		return sb, nil
	}
	if err := o.dataDir(); err != nil {
		return nil, err
	}
	q, err := localqueue.Open(filepath.Join(o.cfg.DataDir, "queue.db"), localqueue.Options{Now: o.app.Clock.Now, Logger: o.app.log})
	if err != nil {
		return nil, fmt.Errorf("local queue: %w", err)
	}
	o.app.Queue = q
	o.app.closers = append(o.app.closers, q.Close)
	o.app.adapters.Queue = "sqlite"
	return q, nil
}

// mailAdapters are the mail sender and, where sent mail is kept in our files, the keeper
// that forgets an erased subject's mails.
type mailAdapters struct {
	mailer gdpr.Mailer
	sent   gdpr.SentMail // nil: no copy kept
}

// mailer is Mailjet wherever its keys are set (Azure mode requires them), else local mode's
// outbox folder, whose copies of sent mail the erasure worker forgets.
func (o *opener) mailer(hasher *gdpr.Hasher) (mailAdapters, error) {
	if mj := o.cfg.Mailjet; mj.Enabled() {
		c, err := mailjet.New(mailjet.Config{PublicKey: mj.PublicKey, PrivateKey: mj.PrivateKey, BaseURL: mj.BaseURL,
			DefaultFrom: gdpr.Sender{Email: mj.From, Name: mj.FromName}})
		if err != nil {
			return mailAdapters{}, err
		}
		o.app.adapters.Mail = "mailjet"
		return mailAdapters{mailer: c}, nil
	}
	o.app.OutboxDir = filepath.Join(o.cfg.DataDir, "outbox")
	box, err := outbox.New(o.app.OutboxDir, hasher)
	if err != nil {
		return mailAdapters{}, fmt.Errorf("outbox: %w", err)
	}
	box.Clock = o.app.Clock
	o.app.adapters.Mail = "outbox"
	return mailAdapters{mailer: box, sent: box}, nil
}

// adapterNames say which adapter serves each port, for the startup log: an operator reading
// it knows whether mail leaves (mailjet) or stays in the outbox, and which store holds data.
type adapterNames struct {
	Store, Blobs, Queue, Mail string
}

func (n adapterNames) attr() slog.Attr {
	return slog.Group("adapters", "store", n.Store, "blobs", n.Blobs, "queue", n.Queue, "mail", n.Mail)
}
