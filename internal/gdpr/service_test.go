package gdpr_test

import (
	"context"
	"io"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/ledgerstore"
	"popsell-gdpr/internal/storetest"
	"popsell-gdpr/internal/templates"
)

// services are the domain's services over one store, wired by gdpr.NewServices as the app
// wires them. brands, retention and erasure are the ones most worlds drive; all has the rest.
type services struct {
	all       *gdpr.Services
	brands    *gdpr.BrandService
	retention *gdpr.RetentionService
	erasure   *gdpr.ErasureService
}

func newServices(tb testing.TB, store storetest.Store, q gdpr.Queue, blobs gdpr.Blobs, clock gdpr.Clock) services {
	tb.Helper()
	all := wire(tb, gdpr.Core{Clock: clock}, gdpr.Platform{Store: store, Queue: q, Blobs: blobs})
	return services{all: all, brands: all.Brands, retention: all.Retention, erasure: all.Erasure}
}

// wire builds every service through gdpr.NewServices over the ports p gives, which are what
// the test watches or doubles; a port it leaves nil is a quiet double (a recording queue and
// mailer, no blobs, fixed links, a fast password hash), and a nil hasher is the tests' key.
// Model tests wire a world per schedule, so none of it touches the disk.
func wire(tb testing.TB, c gdpr.Core, p gdpr.Platform) *gdpr.Services {
	tb.Helper()
	if c.Hasher == nil {
		h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			tb.Fatal(err)
		}
		c.Hasher = h
	}
	if p.Queue == nil {
		p.Queue = &recordingQueue{}
	}
	if p.Blobs == nil {
		p.Blobs = noBlobs{}
	}
	if p.Mailer == nil {
		p.Mailer = &recordingMailer{}
	}
	if p.Links == nil {
		p.Links = staticLinks{}
	}
	if p.Passwords == nil {
		p.Passwords = fastPasswords{}
	}
	if p.Renderer == nil {
		p.Renderer = templates.New()
	}
	if p.Ledger == nil {
		p.Ledger = ledgerstore.New(blobstore.NewFolder(tb.TempDir()))
	}
	if p.Exports == nil {
		p.Exports = noBlobs{}
	}
	if p.MemberFiles == nil {
		p.MemberFiles = noBlobs{}
	}
	s, err := gdpr.NewServices(c, p)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestServicesRefuseMissingPorts: a service built without one of its ports fails at wiring,
// naming the port, instead of on its first call.
func TestServicesRefuseMissingPorts(t *testing.T) {
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	_, err = gdpr.NewRetentionService(gdpr.Core{Hasher: h}, nil, nil, nil)
	require.ErrorContains(t, err, "Core needs Brands")
	_, err = gdpr.NewErasureService(gdpr.Core{Brands: brandsOnly{}, Hasher: h}, gdpr.ErasureDeps{})
	require.ErrorContains(t, err, "ErasureService needs Audit, Blobs, Claims, ContactDocuments, Contacts, Queue, Users")
	_, err = gdpr.NewWebhookService(gdpr.Core{Brands: brandsOnly{}, Hasher: h}, nil)
	require.ErrorContains(t, err, "WebhookService needs ClaimStore")
	_, err = gdpr.NewServices(gdpr.Core{Hasher: h}, gdpr.Platform{Store: storetest.NewMemory(), Links: staticLinks{}})
	require.ErrorContains(t, err, "NewServices needs Blobs, Exports, Ledger, Mailer, MemberFiles, Passwords, Queue, Renderer")
	_, err = gdpr.NewServices(gdpr.Core{}, gdpr.Platform{Store: storetest.NewMemory(), Queue: &recordingQueue{},
		Blobs: noBlobs{}, Mailer: &recordingMailer{}, Links: staticLinks{}, Passwords: fastPasswords{}, Renderer: templates.New(),
		Ledger: ledgerstore.New(blobstore.NewFolder(t.TempDir())), Exports: noBlobs{}, MemberFiles: noBlobs{}})
	require.ErrorContains(t, err, "Core needs Brands and Hasher", "a whole Platform is no use without a hasher")
	s, err := gdpr.NewServices(gdpr.Core{Hasher: h}, gdpr.Platform{Store: storetest.NewMemory(), Queue: &recordingQueue{},
		Blobs: noBlobs{}, Mailer: &recordingMailer{}, Links: staticLinks{}, Passwords: fastPasswords{}, Renderer: templates.New(),
		Ledger: ledgerstore.New(blobstore.NewFolder(t.TempDir())), Exports: noBlobs{}, MemberFiles: noBlobs{}})
	require.NoError(t, err, "SentMail and ResendInterval are optional")
	v := reflect.ValueOf(*s)
	for i := range v.NumField() {
		require.False(t, v.Field(i).IsNil(), "NewServices leaves %s unbuilt", v.Type().Field(i).Name)
	}
}

type brandsOnly struct{ gdpr.BrandStore }

// noBlobs is a platform without files: deleting one finds none, which is success.
type noBlobs struct{}

func (noBlobs) Delete(context.Context, string) error { return nil }

// A platform without files finds none to read, and takes what is written to nowhere.
func (noBlobs) Open(context.Context, string) (io.ReadCloser, error) { return nil, gdpr.ErrNotFound }
func (noBlobs) PutStream(_ context.Context, _ string, r io.Reader, _ string) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
