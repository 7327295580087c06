package gdpr_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
)

// TestRekeyRunsConcurrentlyAndTwice_R_ERASE_4: two re-keying runs at once, then a third, on a
// brand whose blacklist holds h1 digests of addresses still held by live members and of
// addresses of nobody. However their writes interleave, the end is the same: each entry once,
// the held ones computed again under h2, the others wrapped, every member's address claimed
// under h2 by that member, and nothing plain under h1 but the claims h1 (still active) keeps.
func TestRekeyRunsConcurrentlyAndTwice_R_ERASE_4(t *testing.T) {
	ctx := t.Context()
	store, err := localstore.Open(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	clock := clocktest.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	old, err := gdpr.NewKeyring([]gdpr.HashKey{{Version: "h1", Key: ringKey1}}, nil)
	require.NoError(t, err)
	ring, err := gdpr.NewKeyring([]gdpr.HashKey{{Version: "h1", Key: ringKey1}, {Version: "h2", Key: ringKey2}}, nil)
	require.NoError(t, err)
	_, err = store.PutBrand(ctx, gdpr.Brand{ID: "acme", Name: "Acme", Status: gdpr.BrandActive})
	require.NoError(t, err)

	const held, gone = 30, 70
	for i := range held {
		addr := fmt.Sprintf("held-%d@example.test", i)
		u := gdpr.User{BrandID: "acme", ID: fmt.Sprintf("m_%03d", i), Kind: gdpr.SubjectMember, Status: gdpr.UserActive,
			Email: addr, CreatedAt: clock.Now()}
		_, err := store.CreateUser(ctx, u)
		require.NoError(t, err)
		_, err = store.Claim(ctx, gdpr.Claim{BrandID: "acme", Key: gdpr.ClaimEmail + old.EmailDigest(addr), Owner: u.ID, CreatedAt: clock.Now()})
		require.NoError(t, err)
		require.NoError(t, store.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: "acme", Digest: old.EmailDigest(addr), Reason: gdpr.BlacklistSpam, CreatedAt: clock.Now()}))
	}
	for i := range gone {
		d := old.EmailDigest(fmt.Sprintf("gone-%d@example.test", i))
		require.NoError(t, store.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: "acme", Digest: d, Reason: gdpr.BlacklistHardBounce, CreatedAt: clock.Now()}))
	}

	svc, err := gdpr.NewHashKeyService(gdpr.Core{Brands: store, Hasher: ring, Clock: clock},
		gdpr.HashKeyDeps{Users: store, Contacts: store, Claims: store, Digests: store})
	require.NoError(t, err)
	var wg sync.WaitGroup
	results := make([]gdpr.RekeyResult, 2)
	for i := range results {
		wg.Go(func() {
			var err error
			results[i], err = svc.Rekey(ctx, "")
			require.NoError(t, err)
		})
	}
	wg.Wait()
	again, err := svc.Rekey(ctx, "acme")
	require.NoError(t, err)
	require.True(t, again.Done)
	require.Zero(t, again.Twins+again.Rekeyed+again.Wrapped+again.Released, "a run after the others finds nothing to do: %+v", again)
	require.GreaterOrEqual(t, results[0].Twins+results[1].Twins, held, "every member's h2 claim taken by one run or both")

	r, err := svc.Report(ctx, "")
	require.NoError(t, err)
	require.Equal(t, held, r.Forms["h2"].Blacklist, "held addresses computed again under h2")
	require.Equal(t, gone, r.Forms["h2.h1"].Blacklist, "the others wrapped")
	require.Zero(t, r.Forms["h1"].Blacklist)
	require.Equal(t, held, r.Forms["h1"].Claims, "h1 is still active: its claims stay beside the h2 ones")
	require.Equal(t, held, r.Forms["h2"].Claims)
	require.Zero(t, r.MissingTwins)
	vr, err := svc.CheckRetire(ctx, "h1")
	require.NoError(t, err)
	require.True(t, vr.Retirable)
	_, err = svc.CheckRetire(ctx, "h2")
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), "the newest is never retired")
	for i := range held {
		addr := fmt.Sprintf("held-%d@example.test", i)
		c, err := store.GetClaim(ctx, "acme", gdpr.ClaimEmail+ring.EmailDigest(addr))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("m_%03d", i), c.Owner)
		e, err := store.GetBlacklist(ctx, "acme", ring.EmailDigest(addr))
		require.NoError(t, err)
		require.Equal(t, gdpr.BlacklistSpam, e.Reason, "the reason moves with the entry")
	}
}
