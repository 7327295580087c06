package localstore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, "gdpr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, t.TempDir()) })
}

func TestReopenKeepsData(t *testing.T) {
	dir, ctx := t.TempDir(), t.Context()
	s, err := Open(filepath.Join(dir, "gdpr.db"))
	require.NoError(t, err)
	u, err := s.CreateUser(ctx, storetest.NewUser("brand"))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = open(t, dir)
	got, err := s.GetUser(ctx, "brand", u.ID)
	require.NoError(t, err)
	storetest.RequireSame(t, u, got)
}

func TestFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	_, err := s.CreateUser(t.Context(), storetest.NewUser("brand"))
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), e.Name())
	}
}

// TestDueUsesIndex proves DueUsers and DueContacts cost O(due): SQLite searches the partial
// index — seeking to the cursor when there is one — and needs no sort (no temp B-tree).
func TestDueUsesIndex(t *testing.T) {
	s := open(t, t.TempDir())
	cursor := gdpr.DueCursor{At: storetest.Epoch, ID: "usr-1"}
	for _, table := range []string{"users", "contacts"} {
		for _, tc := range []struct {
			after gdpr.DueCursor
			want  string
		}{
			{gdpr.DueCursor{}, "SEARCH %[1]s USING INDEX %[1]s_due (brand_id=? AND next_review_at>? AND next_review_at<?)"},
			{cursor, "SEARCH %[1]s USING INDEX %[1]s_due (brand_id=? AND (next_review_at,id)>(?,?) AND next_review_at<?)"},
		} {
			query, args := dueQuery(table, "b", storetest.Epoch.AddDate(1, 0, 0), tc.after)
			plan := queryPlan(t, s, query, append(args, 10)...)
			require.Equal(t, []string{fmt.Sprintf(tc.want, table)}, plan, "%s after %v", table, tc.after)
			for _, step := range plan {
				require.NotContains(t, step, "TEMP B-TREE", "the index yields the order")
			}
		}
	}
}

// TestBatchReadsUseIndexes: reading many users or the contacts of many members looks each
// one up, never scanning the brand.
func TestBatchReadsUseIndexes(t *testing.T) {
	s := open(t, t.TempDir())
	for query, want := range map[string]string{
		qUsersByID:         "SEARCH users USING INDEX sqlite_autoindex_users_1 (brand_id=? AND id=?)",
		qContactsOfMembers: "SEARCH contacts USING INDEX contacts_member (brand_id=? AND member_id=?)",
	} {
		plan := queryPlan(t, s, query, "b", `["x","y"]`)
		require.Contains(t, plan, want)
		for _, step := range plan {
			require.NotContains(t, step, "SCAN users")
			require.NotContains(t, step, "SCAN contacts")
		}
	}
}

// TestUsersByIdPUsesIndex: SCIM's externalId eq is a search of the users_idp index, in id
// order, never a scan of the brand's users.
func TestUsersByIdPUsesIndex(t *testing.T) {
	s := open(t, t.TempDir())
	plan := queryPlan(t, s, qUsersByIdP, "b", "idp-1", 10)
	require.Equal(t, []string{"SEARCH users USING INDEX users_idp (brand_id=? AND <expr>=?)"}, plan)
}

func queryPlan(t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	return plan
}

// TestConcurrentWritersNeverBusy hammers the store from many goroutines: SQLite has one writer,
// and callers must queue for it rather than see SQLITE_BUSY.
func TestConcurrentWritersNeverBusy(t *testing.T) {
	s, ctx := open(t, t.TempDir()), t.Context()
	const workers, rounds = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*4)
	for w := range workers {
		wg.Go(func() {
			b := gdpr.BrandID(fmt.Sprintf("brand-%d", w%3))
			for range rounds {
				u, err := s.CreateUser(ctx, storetest.NewUser(b))
				errs <- err
				u.Alias = "updated"
				_, err = s.UpdateUser(ctx, u)
				errs <- err
				_, err = s.DueUsers(ctx, b, storetest.Epoch.AddDate(1, 0, 0), gdpr.DueCursor{}, 10)
				errs <- err
				_, err = s.Claim(ctx, storetest.NewClaim(b, "email:shared", u.ID, storetest.Epoch, time.Time{}))
				if err != nil && !gdprIsConflict(err) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestBulkCreateIsAllOrNothing(t *testing.T) {
	s, ctx := open(t, t.TempDir()), t.Context()
	taken, err := s.CreateUser(ctx, storetest.NewUser("brand"))
	require.NoError(t, err)

	var users []gdpr.User
	for range 3000 { // several encoding chunks
		users = append(users, storetest.NewUser("brand"))
	}
	err = s.BulkCreateUsers(ctx, append(users, taken))
	require.ErrorIs(t, err, gdpr.ErrConflict)
	requireUsers(t, s, 1)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, s.BulkCreateUsers(cancelled, users), context.Canceled)
	requireUsers(t, s, 1)

	require.NoError(t, s.BulkCreateUsers(ctx, users))
	requireUsers(t, s, 1+len(users))

	contacts := []gdpr.Contact{storetest.NewContact("brand", taken.ID), storetest.NewContact("brand", taken.ID)}
	require.NoError(t, s.BulkCreateContacts(ctx, contacts))
	got, err := s.ContactsOfMembers(ctx, "brand", []string{taken.ID})
	require.NoError(t, err)
	require.Len(t, got, 2)
	contacts[1].Version = got[1].Version
	storetest.RequireSame(t, contacts[1], got[1])
}

func requireUsers(t *testing.T, s *Store, n int) {
	t.Helper()
	users, err := s.ListUsers(t.Context(), "brand", "", n+1)
	require.NoError(t, err)
	require.Len(t, users, n)
}

func gdprIsConflict(err error) bool { return gdpr.ErrorCode(err) == gdpr.CodeConflict }

// TestScrubLeavesNoErasedBytes is the promise "erased means gone from storage":
// once a value is overwritten and the store scrubbed, no file of the data directory holds it —
// not the old row version in a free cell, an overflow page or the write-ahead log.
func TestScrubLeavesNoErasedBytes(t *testing.T) {
	dir, ctx := t.TempDir(), t.Context()
	s, err := Open(filepath.Join(dir, "gdpr.db"))
	require.NoError(t, err)

	// Enough neighbours that pages are shared and reused, as in a real file.
	var others []gdpr.User
	for range 200 {
		others = append(others, storetest.NewUser("brand"))
	}
	require.NoError(t, s.BulkCreateUsers(ctx, others))

	const marker = "MARKER-7f3a9c-ERASE-ME" // in no generated value
	small := storetest.NewUser("brand")
	small.Email = "x" + marker + "@example.test"
	large := storetest.NewUser("brand")
	large.Description = strings.Repeat("lorem ipsum ", 2000) + marker // spans overflow pages
	contact := storetest.NewContact("brand", small.ID)
	contact.Notes = marker

	var erased []func() error
	for _, u := range []gdpr.User{small, large} {
		u, err := s.CreateUser(ctx, u)
		require.NoError(t, err)
		erased = append(erased, func() error {
			u.Email, u.Description = "erased@example.test", "erased"
			_, err := s.UpdateUser(ctx, u)
			return err
		})
	}
	c, err := s.CreateContact(ctx, contact)
	require.NoError(t, err)
	erased = append(erased, func() error {
		c.Notes = ""
		_, err := s.UpdateContact(ctx, c)
		return err
	})
	// A read transaction that saw the marker, and a checkpoint that copied it into the database
	// file, before the erasure.
	_, err = s.GetUser(ctx, "brand", large.ID)
	require.NoError(t, err)
	require.NoError(t, s.Scrub(ctx))
	requireMarker(t, dir, marker, true)

	for _, erase := range erased {
		require.NoError(t, erase())
	}
	require.NoError(t, s.Scrub(ctx))
	requireMarker(t, dir, marker, false)

	require.NoError(t, s.Close())
	requireMarker(t, dir, marker, false)
}

// TestOpenScrubsWhatACrashLeft: a process killed after an erasure but before its scrub leaves
// the erased value in the log and in the database file; the next Open must remove it before
// anything else runs (review finding 1 of #10). The crash is a copy of the files taken while
// the store is open, as kill -9 would leave them.
func TestOpenScrubsWhatACrashLeft(t *testing.T) {
	dir, crashed, ctx := t.TempDir(), t.TempDir(), t.Context()
	s, err := Open(filepath.Join(dir, "gdpr.db"))
	require.NoError(t, err)
	defer s.Close()
	const marker = "MARKER-91c2e4-ERASE-ME"
	u := storetest.NewUser("brand")
	u.Email = "x" + marker + "@example.test"
	u, err = s.CreateUser(ctx, u)
	require.NoError(t, err)
	require.NoError(t, s.Scrub(ctx)) // the value is in the database file
	u.Email = "erased@example.test"
	_, err = s.UpdateUser(ctx, u) // the erasure, in the log only
	require.NoError(t, err)

	for _, name := range []string{"gdpr.db", "gdpr.db-wal"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(crashed, name), data, 0o600))
	}
	requireMarker(t, crashed, marker, true)

	again, err := Open(filepath.Join(crashed, "gdpr.db"))
	require.NoError(t, err)
	defer again.Close()
	requireMarker(t, crashed, marker, false)
	got, err := again.GetUser(ctx, "brand", u.ID)
	require.NoError(t, err)
	require.Equal(t, "erased@example.test", got.Email, "the erasure survived the crash")
}

// requireMarker scans every file of dir for marker.
func requireMarker(t *testing.T, dir, marker string, want bool) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var holders []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		if bytes.Contains(b, []byte(marker)) {
			holders = append(holders, e.Name())
		}
	}
	if want {
		require.NotEmpty(t, holders, "the marker was never written: the test proves nothing")
	} else {
		require.Empty(t, holders, "erased bytes survive in these files")
	}
}

// Statements run without watching their context (prepare), so a cancelled one must
// still be refused before any statement runs, on every path: read, single write, batch write.
func TestCancelledContextChangesNothing(t *testing.T) {
	s, ctx := open(t, t.TempDir()), t.Context()
	u, err := s.CreateUser(ctx, storetest.NewUser("brand"))
	require.NoError(t, err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	_, err = s.GetUser(cancelled, "brand", u.ID)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.GetUsers(cancelled, "brand", []string{u.ID})
	require.ErrorIs(t, err, context.Canceled)

	changed := u
	changed.FirstName = "Changed"
	_, err = s.UpdateUser(cancelled, changed)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.UpdateUsers(cancelled, "brand", []gdpr.User{changed})
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.CreateUser(cancelled, storetest.NewUser("brand"))
	require.ErrorIs(t, err, context.Canceled)

	got, err := s.GetUser(ctx, "brand", u.ID)
	require.NoError(t, err)
	storetest.RequireSame(t, u, got, "a cancelled update wrote nothing")
	requireUsers(t, s, 1)
}
