package gdpr_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// brandReads is a brand store that counts its reads, and lets a test hold a read between the
// moment it has read the document and the moment it returns it (an explicit interleaving).
type brandReads struct {
	gdpr.BrandStore
	reads, revalidations atomic.Int64
	revalidate           bool // answer GetBrandIfChanged, as Cosmos DB does
	holdNext             chan chan struct{}
}

func (s *brandReads) GetBrand(ctx context.Context, id gdpr.BrandID) (gdpr.Brand, error) {
	s.reads.Add(1)
	b, err := s.BrandStore.GetBrand(ctx, id)
	select {
	case release := <-s.holdNext:
		<-release
	default:
	}
	return b, err
}

// revalidating is brandReads with the If-None-Match read of BrandRevalidation.
type revalidating struct{ *brandReads }

func (s revalidating) GetBrandIfChanged(ctx context.Context, id gdpr.BrandID, version string) (gdpr.Brand, bool, error) {
	s.revalidations.Add(1)
	b, err := s.BrandStore.GetBrand(ctx, id)
	if err != nil || b.Version == version {
		return gdpr.Brand{}, false, err
	}
	return b, true, nil
}

// manualNow is a clock the test moves by hand.
type manualNow struct {
	mu sync.Mutex
	t  time.Time
}

func (m *manualNow) now() time.Time { m.mu.Lock(); defer m.mu.Unlock(); return m.t }
func (m *manualNow) advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t = m.t.Add(d)
}

// process is one instance of the service: its own brand cache over the shared store.
type process struct {
	cache  *gdpr.BrandCache
	brands *gdpr.BrandService
}

func newProcess(t *testing.T, store gdpr.BrandStore, whitelist gdpr.WhitelistStore, now *manualNow) process {
	t.Helper()
	cache := gdpr.NewBrandCache(store, time.Minute, now.now)
	svc, err := gdpr.NewBrandService(gdpr.Core{Brands: cache, Hasher: testHasher(t)}, whitelist)
	require.NoError(t, err)
	return process{cache: cache, brands: svc}
}

func setPro(p gdpr.Pro) func(gdpr.BrandSettings) (gdpr.BrandSettings, error) {
	return func(cur gdpr.BrandSettings) (gdpr.BrandSettings, error) {
		cur.Pro, cur.Keep = p, gdpr.KeptSecrets{WebhookSecret: true, PreviousWebhookSecret: true, SCIMToken: true, MailjetCallback: true}
		return cur, nil
	}
}

// TestBrandCacheChangeSeen: a settings change made by one process is seen by its next
// request at once, without a read; another process sees it once its TTL has run, and not
// before; reads within the TTL never reach the store.
func TestBrandCacheChangeSeen(t *testing.T) {
	mem := storetest.NewMemory()
	store := &brandReads{BrandStore: mem}
	now := &manualNow{t: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, b := newProcess(t, store, mem, now), newProcess(t, store, mem, now)
	ctx := t.Context()
	_, _, err := a.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme"})
	require.NoError(t, err)

	got, err := b.brands.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gdpr.ProClassic, got.Pro)
	store.reads.Store(0)

	_, err = a.brands.PatchBrand(ctx, "acme", setPro(gdpr.ProDirectSelling))
	require.NoError(t, err)
	got, err = a.brands.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gdpr.ProDirectSelling, got.Pro, "the process that made the change sees it at once")
	require.Zero(t, store.reads.Load(), "within the TTL its copy answers, the patch's own read included")

	got, err = b.brands.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gdpr.ProClassic, got.Pro, "another process trusts its copy while the TTL runs")
	now.advance(time.Minute)
	got, err = b.brands.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gdpr.ProDirectSelling, got.Pro, "and sees the change once it has run")
	require.EqualValues(t, 1, store.reads.Load())
}

// TestBrandCacheStaleWriterReadsAgain: a process whose copy is stale writes the brand: its
// write conflicts on the version, the copy is dropped, and the next attempt reads and patches
// the other process's document, whose change is kept.
func TestBrandCacheStaleWriterReadsAgain(t *testing.T) {
	mem := storetest.NewMemory()
	now := &manualNow{t: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, b := newProcess(t, mem, mem, now), newProcess(t, mem, mem, now)
	ctx := t.Context()
	_, _, err := a.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme"})
	require.NoError(t, err)
	_, err = b.brands.GetBrand(ctx, "acme") // b's copy, soon stale
	require.NoError(t, err)
	_, err = a.brands.PatchBrand(ctx, "acme", func(cur gdpr.BrandSettings) (gdpr.BrandSettings, error) {
		cur.SSOExclusive, cur.Keep = true, gdpr.KeptSecrets{WebhookSecret: true, PreviousWebhookSecret: true, SCIMToken: true, MailjetCallback: true}
		return cur, nil
	})
	require.NoError(t, err)

	out, err := b.brands.PatchBrand(ctx, "acme", setPro(gdpr.ProDirectSelling))
	require.NoError(t, err)
	require.Equal(t, gdpr.ProDirectSelling, out.Pro)
	require.True(t, out.SSOExclusive, "the other process's change is not overwritten by a stale copy")
	stored, err := mem.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.True(t, stored.SSOExclusive)
	require.Equal(t, gdpr.ProDirectSelling, stored.Pro)
}

// TestBrandCacheRevalidatesByVersion: once the TTL has run, a store that can answer "not
// modified" is asked with the version held, and the brand is not read again unless it changed.
func TestBrandCacheRevalidatesByVersion(t *testing.T) {
	mem := storetest.NewMemory()
	reads := &brandReads{BrandStore: mem}
	now := &manualNow{t: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}
	cache := gdpr.NewBrandCache(revalidating{reads}, time.Minute, now.now)
	ctx := t.Context()
	_, err := mem.PutBrand(ctx, gdpr.Brand{ID: "acme", Name: "Acme", Status: gdpr.BrandActive})
	require.NoError(t, err)

	_, err = cache.GetBrand(ctx, "acme")
	require.NoError(t, err)
	now.advance(time.Minute)
	_, err = cache.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.EqualValues(t, 1, reads.reads.Load(), "an unchanged brand is not read again")
	require.EqualValues(t, 1, reads.revalidations.Load())

	cur, err := mem.GetBrand(ctx, "acme")
	require.NoError(t, err)
	cur.Name = "Acme Renamed"
	_, err = mem.PutBrand(ctx, cur)
	require.NoError(t, err)
	now.advance(time.Minute)
	got, err := cache.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "Acme Renamed", got.Name)
	got, err = cache.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "Acme Renamed", got.Name, "the changed brand is the new copy")
	require.EqualValues(t, 2, reads.revalidations.Load())
}

// TestBrandCacheCopiesAreTheCallers: a caller that changes the brand it read (its maps and
// pointers included) changes nothing in the cache.
func TestBrandCacheCopiesAreTheCallers(t *testing.T) {
	mem := storetest.NewMemory()
	cache := gdpr.NewBrandCache(mem, time.Hour, nil)
	ctx := t.Context()
	_, err := cache.PutBrand(ctx, gdpr.Brand{ID: "acme", Name: "Acme", Status: gdpr.BrandActive,
		Fields: gdpr.FieldRules{"alias": gdpr.FieldRequired}, SweepCursor: &gdpr.DueCursor{ID: "u1"},
		Mail: gdpr.MailSettings{Templates: map[gdpr.MailKind]int64{gdpr.MailAccountExists: 1}}})
	require.NoError(t, err)
	b, err := cache.GetBrand(ctx, "acme")
	require.NoError(t, err)
	b.Fields["alias"] = gdpr.FieldNotAsked
	b.SweepCursor.ID = "u9"
	b.Mail.Templates[gdpr.MailAccountExists] = 9
	again, err := cache.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gdpr.FieldRequired, again.Fields["alias"])
	require.Equal(t, "u1", again.SweepCursor.ID)
	require.EqualValues(t, 1, again.Mail.Templates[gdpr.MailAccountExists])
}

// TestBrandCacheReadOverlappingAPatch: an explicit interleaving. A read misses the cache and
// reads the brand from the store; before it returns, a PATCH through the same process lands.
// The slow read may answer the old settings (it began first), but must not put them back in
// the cache: the next request sees the patch.
func TestBrandCacheReadOverlappingAPatch(t *testing.T) {
	mem := storetest.NewMemory()
	store := &brandReads{BrandStore: mem, holdNext: make(chan chan struct{}, 1)}
	now := &manualNow{t: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProcess(t, store, mem, now)
	ctx := t.Context()
	_, err := mem.PutBrand(ctx, gdpr.Brand{ID: "acme", Name: "Acme", Status: gdpr.BrandActive})
	require.NoError(t, err)

	release := make(chan struct{})
	store.holdNext <- release
	slow := make(chan gdpr.Brand)
	go func() {
		b, err := p.brands.GetBrand(ctx, "acme") // reads the old document, then waits
		require.NoError(t, err)
		slow <- b
	}()
	for len(store.holdNext) > 0 { // the slow read has taken the hold: it read the old document
		time.Sleep(time.Millisecond)
	}
	_, err = p.brands.PatchBrand(ctx, "acme", setPro(gdpr.ProDirectSelling))
	require.NoError(t, err)
	close(release)
	require.Equal(t, gdpr.ProClassic, (<-slow).Pro, "the read began before the patch")

	got, err := p.brands.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gdpr.ProDirectSelling, got.Pro, "the patch is not undone by the slower read")
}

// TestBrandCacheConcurrentReadsDuringPatches: many readers while patches land, each writing
// two settings together. Every read sees one patch whole (never half of one), and once the
// patches have returned every read sees the last.
func TestBrandCacheConcurrentReadsDuringPatches(t *testing.T) {
	mem := storetest.NewMemory()
	now := &manualNow{t: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProcess(t, mem, mem, now)
	ctx := t.Context()
	_, _, err := p.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "v0"})
	require.NoError(t, err)
	versions := []struct {
		name string
		pro  gdpr.Pro
	}{{"v0", gdpr.ProClassic}, {"v1", gdpr.ProDirectSelling}, {"v2", gdpr.ProSelective}, {"v3", gdpr.ProClassic}}
	consistent := func(b gdpr.Brand) bool {
		for _, v := range versions {
			if b.Name == v.name && b.Pro == v.pro {
				return true
			}
		}
		return false
	}

	stop := make(chan struct{})
	var readers sync.WaitGroup
	var torn, reads atomic.Int64
	var started sync.WaitGroup // every reader has read once before the first patch
	for range 8 {
		started.Add(1)
		readers.Go(func() {
			first := true
			for {
				if !first {
					select {
					case <-stop:
						return
					default:
					}
				}
				b, err := p.brands.GetBrand(ctx, "acme")
				if err != nil || !consistent(b) {
					torn.Add(1)
				}
				reads.Add(1)
				if first {
					first = false
					started.Done()
				}
			}
		})
	}
	started.Wait()
	for _, v := range versions[1:] {
		_, err := p.brands.PatchBrand(ctx, "acme", func(cur gdpr.BrandSettings) (gdpr.BrandSettings, error) {
			cur.Name, cur.Pro = v.name, v.pro
			cur.Keep = gdpr.KeptSecrets{WebhookSecret: true, PreviousWebhookSecret: true, SCIMToken: true, MailjetCallback: true}
			return cur, nil
		})
		require.NoError(t, err)
		got, err := p.brands.GetBrand(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, v.name, got.Name, "the patch is seen by the next read of its process")
	}
	close(stop)
	readers.Wait()
	require.Zero(t, torn.Load(), "every read saw one version whole")
	require.Positive(t, reads.Load())
}
