package gdpr

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"
)

// DefaultBrandCacheTTL is how long a process trusts a brand's settings before it asks the
// store again: the longest another process's change of them goes unseen here.
const DefaultBrandCacheTTL = 30 * time.Second

// BrandRevalidation is a BrandStore that can tell whether a brand changed since a version
// without sending it again (Cosmos DB: a read with If-None-Match). A BrandCache uses it when
// its store has it, and reads the brand whole otherwise.
type BrandRevalidation interface {
	// GetBrandIfChanged returns the brand and true when its version is no longer version;
	// false, with a zero Brand, when it is.
	GetBrandIfChanged(ctx context.Context, id BrandID, version string) (Brand, bool, error)
}

// BrandCache is the process's one copy of the brands' settings, in front of their store:
// every request reads its brand (authentication, then the service), and the settings change
// seldom. A brand read is trusted for the TTL, then revalidated by its version; a write
// through the cache replaces its copy, so a change made by this process is seen by its next
// request, and one made by another process within the TTL. A write that conflicts drops the
// copy, so the writer's next attempt reads what the other wrote. Brands that do not exist are
// not remembered. It is safe for concurrent use.
type BrandCache struct {
	store BrandStore
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	entries map[BrandID]brandEntry
	// epoch counts the changes of entries by writes: a read that began before a write ended
	// must not put back the brand as it was before it.
	epoch uint64
}

type brandEntry struct {
	brand   Brand
	checked time.Time // when the store last confirmed this version
}

var _ BrandStore = (*BrandCache)(nil)

// NewBrandCache caches store's brands for ttl (DefaultBrandCacheTTL when not positive); now is
// the time the TTL is measured by (time.Now when nil), the wall clock rather than the
// service's test clock, which jumps.
func NewBrandCache(store BrandStore, ttl time.Duration, now func() time.Time) *BrandCache {
	if ttl <= 0 {
		ttl = DefaultBrandCacheTTL
	}
	if now == nil {
		now = time.Now
	}
	return &BrandCache{store: store, ttl: ttl, now: now, entries: map[BrandID]brandEntry{}}
}

// GetBrand returns the brand from the cache while its TTL runs, else from the store.
func (c *BrandCache) GetBrand(ctx context.Context, id BrandID) (Brand, error) {
	c.mu.Lock()
	e, cached := c.entries[id]
	epoch := c.epoch
	c.mu.Unlock()
	now := c.now()
	if cached && now.Sub(e.checked) < c.ttl {
		return e.brand.clone(), nil
	}
	if rv, ok := c.store.(BrandRevalidation); ok && cached {
		b, changed, err := rv.GetBrandIfChanged(ctx, id, e.brand.Version)
		switch {
		case err != nil:
			c.forget(id, err)
			return Brand{}, err
		case !changed:
			b = e.brand
		}
		c.keep(b, now, epoch)
		return b.clone(), nil
	}
	b, err := c.store.GetBrand(ctx, id)
	if err != nil {
		c.forget(id, err)
		return Brand{}, err
	}
	c.keep(b, now, epoch)
	return b.clone(), nil
}

// PutBrand writes through to the store and keeps what was written.
func (c *BrandCache) PutBrand(ctx context.Context, b Brand) (Brand, error) {
	out, err := c.store.PutBrand(ctx, b)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if err != nil {
		// A conflict means another writer changed it; anything else may have written or
		// not. Either way the copy can no longer be trusted.
		delete(c.entries, b.ID)
		return Brand{}, err
	}
	c.entries[out.ID] = brandEntry{brand: out.clone(), checked: c.now()}
	return out, nil
}

// ListBrands asks the store (the sweeps walk every brand, and must see new ones), and keeps
// what it read.
func (c *BrandCache) ListBrands(ctx context.Context) ([]Brand, error) {
	c.mu.Lock()
	epoch := c.epoch
	c.mu.Unlock()
	now := c.now()
	brands, err := c.store.ListBrands(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range brands {
		c.keep(b, now, epoch)
	}
	return brands, nil
}

// keep stores b as checked at now, unless a write changed the entries since epoch was read:
// then b may be older than what the write left.
func (c *BrandCache) keep(b Brand, now time.Time, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	c.entries[b.ID] = brandEntry{brand: b.clone(), checked: now}
}

// forget drops a brand the store says is gone; a failed read leaves the copy to be asked
// about again next time, which the expired TTL already ensures.
func (c *BrandCache) forget(id BrandID, err error) {
	if !errors.Is(err, ErrNotFound) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.entries, id)
}

// clone is a copy of b that shares nothing with it: callers change the brands they read.
func (b Brand) clone() Brand {
	if b.SweepCursor != nil {
		cur := *b.SweepCursor
		b.SweepCursor = &cur
	}
	if b.ContractEnd != nil {
		end := *b.ContractEnd
		b.ContractEnd = &end
	}
	if b.Suspension != nil {
		s := *b.Suspension
		b.Suspension = &s
	}
	b.Fields = maps.Clone(b.Fields)
	b.Mail.Templates = maps.Clone(b.Mail.Templates)
	return b
}
