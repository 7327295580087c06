package gdpr_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// The model test of the unique-key protocol (uniquekeys.go). Writers — SSO upserts, SCIM
// creates, deletions, form signups — run the real services on the store double, but every
// store call that reads or writes a user or a claim, and every wait, is a step that a
// scheduler grants one at a time. A depth-first search enumerates the scheduler's choices:
// which writer takes the next step, or that a writer dies there (its process killed: nothing
// it would do afterwards reaches the store). After each schedule, the clock moves past the
// lease and the properties are checked:
//   - every live member is found by each of its keys (the claims of its external id and its
//     address name it), and no two live members share a key;
//   - writers of one external id that succeeded all answered with the same member;
//   - a deletion reaches every live member (Deprovision blocks it);
//   - a writer that did not die got an answer other than "could not reserve" unless a writer
//     took it for dead (a fence), and a new attempt after the lease succeeds.

// errKilled is what the store answers a writer that the schedule killed.
var errKilled = errors.New("model: the writer's process was killed")

type actorKey struct{}

type stepRequest struct {
	actor int
	wait  bool // a wait before looking again at another writer's create in progress
	write bool // a call that may change the store
	reply chan bool
}

// scheduler parks every writer at each of its steps until the search lets one go. A writer
// that waits is let go only once another writer has changed the store since its last wait, or
// when time passes: then nothing else can move (a creator died), or the search spends its one
// "creator paused past its lease" on it. So the search explores the fences without looping
// through looks that see nothing new.
type scheduler struct {
	requests chan stepRequest
	killed   []atomic.Bool
	mu       sync.Mutex
	moved    []bool // moved[a]: another writer changed the store since a last waited
}

func (s *scheduler) park(ctx context.Context, wait, write bool) error {
	a, ok := ctx.Value(actorKey{}).(int)
	if !ok {
		return nil // the checks after a schedule run unscheduled
	}
	if s.killed[a].Load() {
		return errKilled
	}
	reply := make(chan bool)
	s.requests <- stepRequest{a, wait, write, reply}
	if <-reply {
		s.killed[a].Store(true)
		return errKilled
	}
	return nil
}

// wrote records that the writer of ctx changed the store.
func (s *scheduler) wrote(ctx context.Context) {
	a, ok := ctx.Value(actorKey{}).(int)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for b := range s.moved {
		if b != a {
			s.moved[b] = true
		}
	}
}

func (s *scheduler) takeMoved(a int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.moved[a]
	s.moved[a] = false
	return m
}

func (s *scheduler) hasMoved(a int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moved[a]
}

// steppedStore makes the user and claim calls of the double steps of the schedule.
type steppedStore struct {
	*storetest.Memory
	sched *scheduler
}

func stepped[T any](s steppedStore, ctx context.Context, f func() (T, error)) (T, error) {
	if err := s.sched.park(ctx, false, false); err != nil {
		var zero T
		return zero, err
	}
	return f()
}

// writing is stepped for a call that changes the store when it succeeds.
func writing[T any](s steppedStore, ctx context.Context, f func() (T, error)) (T, error) {
	if err := s.sched.park(ctx, false, true); err != nil {
		var zero T
		return zero, err
	}
	v, err := f()
	if err == nil {
		s.sched.wrote(ctx)
	}
	return v, err
}

func (s steppedStore) CreateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	return writing(s, ctx, func() (gdpr.User, error) { return s.Memory.CreateUser(ctx, u) })
}

func (s steppedStore) GetUser(ctx context.Context, b gdpr.BrandID, id string) (gdpr.User, error) {
	return stepped(s, ctx, func() (gdpr.User, error) { return s.Memory.GetUser(ctx, b, id) })
}

func (s steppedStore) UpdateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	return writing(s, ctx, func() (gdpr.User, error) { return s.Memory.UpdateUser(ctx, u) })
}

func (s steppedStore) Claim(ctx context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	return writing(s, ctx, func() (gdpr.Claim, error) { return s.Memory.Claim(ctx, c) })
}

func (s steppedStore) GetClaim(ctx context.Context, b gdpr.BrandID, key string) (gdpr.Claim, error) {
	return stepped(s, ctx, func() (gdpr.Claim, error) { return s.Memory.GetClaim(ctx, b, key) })
}

func (s steppedStore) ReplaceClaim(ctx context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	return writing(s, ctx, func() (gdpr.Claim, error) { return s.Memory.ReplaceClaim(ctx, c) })
}

func (s steppedStore) ReleaseClaims(ctx context.Context, b gdpr.BrandID, cs ...gdpr.Claim) error {
	_, err := writing(s, ctx, func() (struct{}, error) { return struct{}{}, s.Memory.ReleaseClaims(ctx, b, cs...) })
	return err
}

// modelWorld is one run: a fresh double, services over it, a clock that moves only when a
// writer waits.
type modelWorld struct {
	mem    *storetest.Memory
	store  steppedStore
	clock  *clocktest.Manual
	prov   *gdpr.ProvisioningService
	signup *gdpr.SignupService
	hasher *gdpr.Hasher
}

const modelBrand gdpr.BrandID = "acme"

func newModelWorld(tb testing.TB, sched *scheduler) *modelWorld {
	w := &modelWorld{mem: storetest.NewMemory(), clock: clocktest.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))}
	w.store = steppedStore{Memory: w.mem, sched: sched}
	var err error
	w.hasher, err = gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	// A wait is a step of its own; the search decides whether time passes during it.
	wait := func(ctx context.Context, _ time.Duration) error { return sched.park(ctx, true, false) }
	// Only the users' and claims' calls are steps; steppedStore passes the others to w.mem.
	all := wire(tb, gdpr.Core{Brands: w.mem, Hasher: w.hasher, Clock: w.clock, Wait: wait}, gdpr.Platform{Store: w.store})
	w.prov, w.signup = all.Provisioning, all.Signup
	if _, _, err := all.Brands.PutBrand(context.Background(), modelBrand, gdpr.BrandSettings{Name: "Acme"}); err != nil {
		tb.Fatal(err)
	}
	return w
}

// writer is one request of a scenario.
type writer struct {
	name string
	ext  string // the external id it provisions or deletes; "" for a form signup
	run  func(ctx context.Context, w *modelWorld) (memberID string, err error)
}

func upsert(ext, email string) writer {
	return writer{name: "upsert " + ext + " " + email, ext: ext, run: func(ctx context.Context, w *modelWorld) (string, error) {
		res, err := w.prov.Upsert(ctx, modelBrand, gdpr.ProvisionedUser{ExternalID: ext, Email: email, FirstName: "Ada"}, gdpr.ProvisionOptions{})
		return res.User.ID, err
	}}
}

func scimCreate(ext, email string) writer {
	wr := upsert(ext, email)
	wr.name = "scim POST " + ext
	wr.run = func(ctx context.Context, w *modelWorld) (string, error) {
		res, err := w.prov.Upsert(ctx, modelBrand, gdpr.ProvisionedUser{ExternalID: ext, Email: email, FirstName: "Ada"}, gdpr.ProvisionOptions{CreateOnly: true})
		return res.User.ID, err
	}
	return wr
}

func deletion(ext string) writer {
	return writer{name: "delete " + ext, run: func(ctx context.Context, w *modelWorld) (string, error) {
		res, err := w.prov.Deprovision(ctx, modelBrand, ext, gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{})
		return res.User.ID, err
	}}
}

func formSignup(email string) writer {
	return writer{name: "signup " + email, run: func(ctx context.Context, w *modelWorld) (string, error) {
		return "", w.signup.Signup(ctx, modelBrand, gdpr.SignupInput{Email: email, Password: "correct horse battery",
			AcceptTerms: true, TermsVersion: "2026-01"})
	}}
}

type modelScenario struct {
	name        string
	writers     []writer
	preemptions int // at most this many switches away from a writer that could go on; <0: any
	kills       int // at most this many writers die
}

type modelResult struct {
	memberID string
	err      error
	killed   bool
}

type option struct {
	actor      int
	kill       bool
	timePasses bool // the writer waits past the lease of every claim there is
}

// runSchedule runs the scenario once, taking each choice from choose(number of options).
func runSchedule(tb testing.TB, sc modelScenario, choose func(n int) int) (*modelWorld, []modelResult) {
	n := len(sc.writers)
	sched := &scheduler{requests: make(chan stepRequest), killed: make([]atomic.Bool, n), moved: make([]bool, n)}
	w := newModelWorld(tb, sched)
	results := make([]modelResult, n)
	done := make(chan int)
	for i, wr := range sc.writers {
		go func() {
			ctx := context.WithValue(context.Background(), actorKey{}, i)
			results[i].memberID, results[i].err = wr.run(ctx, w)
			done <- i
		}()
	}
	pending := map[int]stepRequest{}
	finished, prev, preemptions, kills, pauses := 0, -1, 0, 0, 0
	for finished < n {
		for len(pending)+finished < n {
			select {
			case r := <-sched.requests:
				pending[r.actor] = r
			case <-done:
				finished++
			}
		}
		if len(pending) == 0 {
			break
		}
		// What may go: a writer at a store call; a waiting writer once another moved.
		enabled := map[int]bool{}
		for a, r := range pending {
			enabled[a] = !r.wait || sched.hasMoved(a)
		}
		_, prevWaits := pending[prev]
		prevWaits = prevWaits && enabled[prev]
		var opts []option
		add := func(o option) {
			if prevWaits && o.actor != prev && sc.preemptions >= 0 && preemptions >= sc.preemptions {
				return
			}
			opts = append(opts, o)
		}
		for a := range n {
			if enabled[a] {
				add(option{actor: a})
			}
		}
		for a := range n {
			if r, ok := pending[a]; ok && r.wait && !enabled[a] && (len(opts) == 0 || pauses < 1) {
				add(option{actor: a, timePasses: true})
			}
		}
		// A writer dies only before a write: dying before a read leaves the store as dying
		// before the write that follows it does.
		if kills < sc.kills {
			for a := range n {
				if r, ok := pending[a]; ok && r.write {
					add(option{actor: a, kill: true})
				}
			}
		}
		if len(opts) == 0 { // every way on is a preemption past the bound: let time pass
			for a := range n {
				if _, ok := pending[a]; ok {
					opts = append(opts, option{actor: a, timePasses: pending[a].wait})
				}
			}
		}
		o := opts[choose(len(opts))]
		if prevWaits && o.actor != prev {
			preemptions++
		}
		if o.kill {
			kills++
		}
		if o.timePasses {
			if slices.ContainsFunc(opts, func(x option) bool { return !x.timePasses && !x.kill }) {
				pauses++ // others could have moved: this is the search's one long pause
			}
			w.clock.Advance(gdpr.ClaimLease + time.Second)
		}
		if pending[o.actor].wait {
			sched.takeMoved(o.actor)
		}
		prev = o.actor
		r := pending[o.actor]
		delete(pending, o.actor)
		r.reply <- o.kill
	}
	for i := range results {
		results[i].killed = sched.killed[i].Load()
	}
	return w, results
}

// checkModel checks the properties after a schedule; it returns what is wrong, or "".
func checkModel(w *modelWorld, sc modelScenario, results []modelResult) string {
	ctx := context.Background()
	w.clock.Advance(2 * gdpr.ClaimLease) // every creator silent since is past its lease
	var live []gdpr.User
	for _, u := range w.mem.Users() {
		if u.Status != gdpr.UserErased {
			live = append(live, u)
		}
	}
	byExt, byAddr := map[string]string{}, map[string]string{}
	for _, u := range live {
		keys := map[string]string{}
		if u.ExternalID != "" {
			keys["external id"] = gdpr.ClaimExternalID + w.hasher.Digest(u.ExternalID)
			if other, ok := byExt[u.ExternalID]; ok {
				return fmt.Sprintf("members %s and %s share an external id", other, u.ID)
			}
			byExt[u.ExternalID] = u.ID
		}
		if addr := u.Email + u.EmailTmp; addr != "" {
			keys["address"] = gdpr.ClaimEmail + w.hasher.EmailDigest(addr)
			if other, ok := byAddr[addr]; ok {
				return fmt.Sprintf("members %s and %s share an address", other, u.ID)
			}
			byAddr[addr] = u.ID
		}
		for what, key := range keys {
			c, err := w.mem.GetClaim(ctx, modelBrand, key)
			if err != nil || c.Owner != u.ID {
				return fmt.Sprintf("member %s is not found by its %s (claim %+v, %v)", u.ID, what, c, err)
			}
		}
	}
	for i, r := range results {
		wr := sc.writers[i]
		switch {
		case r.killed:
		case gdpr.ErrorCode(r.err) == gdpr.CodeUnavailable:
			return fmt.Sprintf("%s answered unavailable: %v", wr.name, r.err)
		case r.err == nil && wr.ext != "" && r.memberID != byExt[wr.ext]:
			return fmt.Sprintf("%s answered member %q, but %q holds the external id", wr.name, r.memberID, byExt[wr.ext])
		}
	}
	var exts []string
	for _, wr := range sc.writers {
		if wr.ext != "" && !slices.Contains(exts, wr.ext) {
			exts = append(exts, wr.ext)
		}
	}
	for _, ext := range exts {
		// A new attempt after the lease succeeds, and converges on the member there is.
		res, err := w.prov.Upsert(ctx, modelBrand, gdpr.ProvisionedUser{ExternalID: ext, Email: ext + "@later.test", FirstName: "Ada"}, gdpr.ProvisionOptions{})
		if err != nil && !errors.Is(err, gdpr.ErrConflict) {
			return fmt.Sprintf("a later upsert of %s failed: %v", ext, err)
		}
		if id, ok := byExt[ext]; ok && err == nil && res.User.ID != id {
			return fmt.Sprintf("a later upsert of %s made %s beside %s", ext, res.User.ID, id)
		}
		// A deletion reaches the member.
		del, err := w.prov.Deprovision(ctx, modelBrand, ext, gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{})
		if err != nil {
			return fmt.Sprintf("deleting %s failed: %v", ext, err)
		}
		if id, ok := byExt[ext]; ok && del.User.ID != id {
			return fmt.Sprintf("deleting %s reached %q, not its member %s", ext, del.User.ID, id)
		}
	}
	for _, u := range w.mem.Users() {
		if u.ExternalID != "" && u.Status != gdpr.UserErased && u.Status != gdpr.UserBlocked {
			return fmt.Sprintf("member %s outlived the deletion of its external id", u.ID)
		}
	}
	return ""
}

// explore enumerates every schedule of the scenario depth first and returns how many it ran.
func explore(t *testing.T, sc modelScenario, limit int) int {
	t.Helper()
	type choice struct{ picked, of int }
	var prefix []int
	for runs := 1; ; runs++ {
		var trace []choice
		w, results := runSchedule(t, sc, func(n int) int {
			c := 0
			if d := len(trace); d < len(prefix) {
				c = prefix[d]
			}
			trace = append(trace, choice{c, n})
			return c
		})
		if msg := checkModel(w, sc, results); msg != "" {
			var path []string
			for _, c := range trace {
				path = append(path, fmt.Sprint(c.picked))
			}
			t.Fatalf("%s: schedule [%s]: %s", sc.name, strings.Join(path, " "), msg)
		}
		i := len(trace) - 1
		for i >= 0 && trace[i].picked+1 >= trace[i].of {
			i--
		}
		if i < 0 || runs >= limit {
			if i >= 0 {
				t.Errorf("%s: the search was cut at %d schedules: raise the limit or bound the scenario", sc.name, limit)
			}
			return runs
		}
		prefix = prefix[:0]
		for _, c := range trace[:i] {
			prefix = append(prefix, c.picked)
		}
		prefix = append(prefix, trace[i].picked+1)
	}
}

// The scenarios, each searched exhaustively within its bound on preemptions (switches away
// from a writer that could have gone on): the bounded search of CHESS, in which the bugs of
// such protocols show within two or three. The bounds keep make test quick under the race
// detector; POPSELL_MODEL_DEEP=1 raises each by one (about 60,000 schedules), and
// FuzzClaimSchedules draws unbounded schedules.
var modelScenarios = []modelScenario{
	{"two_upserts_of_one_user", []writer{upsert("u1", "ada@x.test"), upsert("u1", "ada@x.test")}, 2, 1},
	{"two_upserts_of_one_user_two_addresses", []writer{upsert("u1", "ada@x.test"), upsert("u1", "ada.l@x.test")}, 2, 1},
	{"two_users_one_address", []writer{upsert("u1", "ada@x.test"), upsert("u2", "ada@x.test")}, 2, 1},
	{"two_scim_creates", []writer{scimCreate("u1", "ada@x.test"), scimCreate("u1", "ada@x.test")}, 2, 1},
	{"create_and_delete", []writer{upsert("u1", "ada@x.test"), deletion("u1")}, -1, 1},
	{"provisioning_and_form_signup", []writer{upsert("u1", "ada@x.test"), formSignup("ada@x.test")}, 2, 1},
	{"three_upserts_of_one_user", []writer{upsert("u1", "ada@x.test"), upsert("u1", "ada@x.test"), upsert("u1", "ada@x.test")}, 1, 1},
	{"three_writers_one_address", []writer{upsert("u1", "ada@x.test"), upsert("u2", "ada@x.test"), formSignup("ada@x.test")}, 1, 1},
}

// TestUniqueKeyModel runs the search over the scenarios, each with any one writer killed
// before any of its writes.
func TestUniqueKeyModel(t *testing.T) {
	deep := os.Getenv("POPSELL_MODEL_DEEP") == "1"
	for _, sc := range modelScenarios {
		if deep && sc.preemptions >= 0 {
			sc.preemptions++
		}
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			runs := explore(t, sc, 1_000_000)
			t.Logf("%d schedules within %d preemptions", runs, sc.preemptions)
		})
	}
}

// FuzzClaimSchedules draws schedules of the scenarios from the fuzzer's bytes, without the
// preemption bound: the search above is exhaustive where it is small; this goes further at
// random.
func FuzzClaimSchedules(f *testing.F) {
	f.Add(uint8(0), []byte{0, 1, 0, 1, 1, 0, 0, 1})
	f.Add(uint8(6), []byte{2, 2, 1, 0, 5, 3, 1, 0, 0, 2, 1})
	f.Add(uint8(7), []byte{4, 0, 2, 1, 3, 3, 3, 0, 1, 2})
	f.Fuzz(func(t *testing.T, which uint8, choices []byte) {
		sc := modelScenarios[int(which)%len(modelScenarios)]
		sc.preemptions = -1
		d := 0
		w, results := runSchedule(t, sc, func(n int) int {
			if d >= len(choices) {
				return 0
			}
			d++
			return int(choices[d-1]) % n
		})
		if msg := checkModel(w, sc, results); msg != "" {
			t.Fatalf("%s: %s", sc.name, msg)
		}
	})
}

// TestReadsDoNotWaitForACreateInProgress: a read-only lookup answers from what is stored, so
// the claim of a create in progress (or of one whose process died) never makes a SCIM GET
// wait out the lease; a deletion, a writer, waits for it (TestUniqueKeyModel's
// create_and_delete).
func TestReadsDoNotWaitForACreateInProgress(t *testing.T) {
	mem := storetest.NewMemory()
	clock := clocktest.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	waited := 0
	wait := func(context.Context, time.Duration) error { waited++; return nil }
	prov := wire(t, gdpr.Core{Hasher: h, Clock: clock, Wait: wait}, gdpr.Platform{Store: mem}).Provisioning
	if _, err := mem.PutBrand(t.Context(), gdpr.Brand{ID: modelBrand, Name: "Acme", Status: gdpr.BrandActive}); err != nil {
		t.Fatal(err)
	}
	key := gdpr.ClaimExternalID + h.Digest("u1")
	if _, err := mem.Claim(t.Context(), gdpr.Claim{BrandID: modelBrand, Key: key, Owner: "m_in_progress", CreatedAt: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err = prov.Lookup(t.Context(), modelBrand, "u1")
	if !errors.Is(err, gdpr.ErrNotFound) || waited != 0 {
		t.Fatalf("a lookup during a create answered %v after %d waits; want not found at once", err, waited)
	}
}
