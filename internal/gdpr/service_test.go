package gdpr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// services are the domain's services over one store, wired as package functions wires them.
type services struct {
	brands    *gdpr.BrandService
	retention *gdpr.RetentionService
	erasure   *gdpr.ErasureService
}

func newServices(tb testing.TB, store storetest.Store, q gdpr.Queue, blobs gdpr.Blobs, clock gdpr.Clock) services {
	tb.Helper()
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(tb, err)
	core := gdpr.Core{Brands: store, Hasher: h, Clock: clock}
	var s services
	s.brands, err = gdpr.NewBrandService(core, store)
	require.NoError(tb, err)
	s.retention, err = gdpr.NewRetentionService(core, store, q, store)
	require.NoError(tb, err)
	s.erasure, err = gdpr.NewErasureService(core, gdpr.ErasureDeps{Users: store, Contacts: store, ContactDocuments: store, Claims: store,
		Audit: store, Blobs: blobs, Queue: q})
	require.NoError(tb, err)
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
}

type brandsOnly struct{ gdpr.BrandStore }
