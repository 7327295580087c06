package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// Memory is the store double: brands, users, claims, tokens and the whitelist in maps, with the
// ports' conventions and nothing else. It is for tests that run a service thousands of times,
// such as the model test of the unique-key protocol, where opening a database per run would
// cost more than the run. It passes the Brands, Users, Claims, Tokens, Whitelist, Requests, Exports, Blacklist and
// SoftBounces groups of
// this suite (memory_test.go); the other ports are left to the real adapters: calling one
// panics.
type Memory struct {
	Store // the ports Memory does not keep; nil, so a call panics

	mu       sync.Mutex
	version  int
	brands   map[gdpr.BrandID]gdpr.Brand
	users    map[memKey]gdpr.User
	claims   map[memKey]gdpr.Claim
	tokens   map[memKey]gdpr.Token
	listed   map[memKey]bool // whitelist digests, keyed by kind + digest
	requests map[memKey]gdpr.Request
	exports  map[memKey]gdpr.ExportRecord
	black    map[memKey]gdpr.BlacklistEntry
	removed  map[memKey]gdpr.BlacklistRemoval
	streaks  map[memKey]gdpr.SoftBounceStreak
}

type memKey struct {
	brand gdpr.BrandID
	id    string
}

// NewMemory returns an empty double.
func NewMemory() *Memory {
	return &Memory{brands: map[gdpr.BrandID]gdpr.Brand{}, users: map[memKey]gdpr.User{}, claims: map[memKey]gdpr.Claim{},
		tokens: map[memKey]gdpr.Token{}, listed: map[memKey]bool{}, requests: map[memKey]gdpr.Request{},
		exports: map[memKey]gdpr.ExportRecord{}, black: map[memKey]gdpr.BlacklistEntry{},
		removed: map[memKey]gdpr.BlacklistRemoval{}, streaks: map[memKey]gdpr.SoftBounceStreak{}}
}

func (m *Memory) nextVersion() string {
	m.version++
	return strconv.Itoa(m.version)
}

// clone copies a document through JSON, as a store does: callers never share memory with it.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("storetest: %T does not encode: %v", v, err))
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("storetest: %T does not decode: %v", v, err))
	}
	return out
}

// cloneUser and cloneBrand keep the version, which their JSON leaves out.
func cloneUser(u gdpr.User) gdpr.User {
	c := clone(u)
	c.Version = u.Version
	return c
}

func cloneBrand(b gdpr.Brand) gdpr.Brand {
	c := clone(b)
	c.Version = b.Version
	return c
}

func conflictErr(msg string) error { return &gdpr.Error{Code: gdpr.CodeConflict, Message: msg} }
func notFoundErr(what string) error {
	return &gdpr.Error{Code: gdpr.CodeNotFound, Message: what + " not found"}
}

// ---- brands ----

func (m *Memory) PutBrand(_ context.Context, b gdpr.Brand) (gdpr.Brand, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, exists := m.brands[b.ID]
	switch {
	case b.Version == "" && exists:
		return gdpr.Brand{}, conflictErr("brand exists")
	case b.Version != "" && !exists:
		return gdpr.Brand{}, notFoundErr("brand")
	case b.Version != "" && b.Version != old.Version:
		return gdpr.Brand{}, conflictErr("stale brand")
	}
	b = cloneBrand(b)
	b.Version = m.nextVersion()
	m.brands[b.ID] = b
	return cloneBrand(b), nil
}

func (m *Memory) GetBrand(_ context.Context, id gdpr.BrandID) (gdpr.Brand, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.brands[id]
	if !ok {
		return gdpr.Brand{}, notFoundErr("brand")
	}
	return cloneBrand(b), nil
}

func (m *Memory) ListBrands(context.Context) ([]gdpr.Brand, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]gdpr.Brand, 0, len(m.brands))
	for _, b := range m.brands {
		out = append(out, cloneBrand(b))
	}
	slices.SortFunc(out, func(a, b gdpr.Brand) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// ---- users ----

func (m *Memory) CreateUser(_ context.Context, u gdpr.User) (gdpr.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{u.BrandID, u.ID}
	if _, ok := m.users[k]; ok {
		return gdpr.User{}, conflictErr("user exists")
	}
	u = cloneUser(u)
	u.Version = m.nextVersion()
	m.users[k] = u
	return cloneUser(u), nil
}

func (m *Memory) GetUser(_ context.Context, brand gdpr.BrandID, id string) (gdpr.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[memKey{brand, id}]
	if !ok {
		return gdpr.User{}, notFoundErr("user")
	}
	return cloneUser(u), nil
}

func (m *Memory) GetUsers(_ context.Context, brand gdpr.BrandID, ids []string) ([]gdpr.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdpr.User
	for _, id := range ids {
		if u, ok := m.users[memKey{brand, id}]; ok {
			out = append(out, cloneUser(u))
		}
	}
	return out, nil
}

func (m *Memory) UpdateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	out, err := m.UpdateUsers(ctx, u.BrandID, []gdpr.User{u})
	if err != nil {
		return gdpr.User{}, err
	}
	return out[0], nil
}

func (m *Memory) UpdateUsers(_ context.Context, brand gdpr.BrandID, us []gdpr.User) ([]gdpr.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]gdpr.User, 0, len(us))
	for chunk := range slices.Chunk(us, gdpr.MaxBatch) {
		for _, u := range chunk {
			old, ok := m.users[memKey{brand, u.ID}]
			switch {
			case u.BrandID != brand, !ok:
				return out, notFoundErr("user")
			case old.Version != u.Version:
				return out, conflictErr("stale user")
			}
		}
		for _, u := range chunk {
			u = cloneUser(u)
			u.Version = m.nextVersion()
			m.users[memKey{brand, u.ID}] = u
			out = append(out, cloneUser(u))
		}
	}
	return out, nil
}

func (m *Memory) ListUsers(_ context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.User, error) {
	return m.selectUsers(brand, limit, func(u gdpr.User) bool { return u.ID > after },
		func(a, b gdpr.User) int { return cmp.Compare(a.ID, b.ID) }), nil
}

func (m *Memory) DueUsers(_ context.Context, brand gdpr.BrandID, now time.Time, after gdpr.DueCursor, limit int) ([]gdpr.User, error) {
	return m.selectUsers(brand, limit, func(u gdpr.User) bool {
		at := u.NextReviewAt
		return !at.IsZero() && !at.After(now) && (at.After(after.At) || at.Equal(after.At) && u.ID > after.ID)
	}, func(a, b gdpr.User) int {
		return cmp.Or(a.NextReviewAt.Compare(b.NextReviewAt), cmp.Compare(a.ID, b.ID))
	}), nil
}

func (m *Memory) selectUsers(brand gdpr.BrandID, limit int, keep func(gdpr.User) bool, order func(a, b gdpr.User) int) []gdpr.User {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdpr.User
	for k, u := range m.users {
		if k.brand == brand && keep(u) {
			out = append(out, cloneUser(u))
		}
	}
	slices.SortFunc(out, order)
	limit = max(limit, 0)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (m *Memory) UsersByIdPExternalID(_ context.Context, brand gdpr.BrandID, id string, limit int) ([]gdpr.User, error) {
	return m.selectUsers(brand, limit, func(u gdpr.User) bool { return id != "" && u.IdPExternalID == id },
		func(a, b gdpr.User) int { return cmp.Compare(a.ID, b.ID) }), nil
}

// Users returns every user of every brand, for checks over the whole store.
func (m *Memory) Users() []gdpr.User {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]gdpr.User, 0, len(m.users))
	for _, u := range m.users {
		out = append(out, cloneUser(u))
	}
	slices.SortFunc(out, func(a, b gdpr.User) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ---- claims ----

func (m *Memory) Claim(_ context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{c.BrandID, c.Key}
	if held, ok := m.claims[k]; ok && (held.ExpiresAt.IsZero() || held.ExpiresAt.After(c.CreatedAt)) {
		return held, conflictErr("the key is claimed")
	}
	c.Version = m.nextVersion()
	m.claims[k] = c
	return c, nil
}

func (m *Memory) GetClaim(_ context.Context, brand gdpr.BrandID, key string) (gdpr.Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.claims[memKey{brand, key}]
	if !ok {
		return gdpr.Claim{}, notFoundErr("claim")
	}
	return c, nil
}

func (m *Memory) ReplaceClaim(_ context.Context, c gdpr.Claim) (gdpr.Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{c.BrandID, c.Key}
	held, ok := m.claims[k]
	switch {
	case !ok:
		return gdpr.Claim{}, notFoundErr("claim")
	case held.Version != c.Version:
		return gdpr.Claim{}, conflictErr("the claim changed since it was read")
	}
	c.Version = m.nextVersion()
	m.claims[k] = c
	return c, nil
}

func (m *Memory) ReleaseClaims(_ context.Context, brand gdpr.BrandID, claims ...gdpr.Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range claims {
		k := memKey{brand, c.Key}
		if held, ok := m.claims[k]; ok && held.Owner == c.Owner {
			delete(m.claims, k)
		}
	}
	return nil
}

// ListClaims pages through a brand's claims in key order.
func (m *Memory) ListClaims(_ context.Context, brand gdpr.BrandID, afterKey string, limit int) ([]gdpr.Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdpr.Claim
	for k, c := range m.claims {
		if k.brand == brand && k.id > afterKey {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b gdpr.Claim) int { return strings.Compare(a.Key, b.Key) })
	return out[:min(len(out), max(limit, 0))], nil
}

// Claims returns every claim of a brand, for checks over the whole store.
func (m *Memory) Claims(brand gdpr.BrandID) []gdpr.Claim {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdpr.Claim
	for k, c := range m.claims {
		if k.brand == brand {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b gdpr.Claim) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// ---- tokens and whitelist: what a signup touches ----

func (m *Memory) CreateToken(_ context.Context, t gdpr.Token) (gdpr.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{t.BrandID, t.Digest}
	if _, ok := m.tokens[k]; ok {
		return gdpr.Token{}, conflictErr("token exists")
	}
	t.Version = m.nextVersion()
	m.tokens[k] = t
	return t, nil
}

func (m *Memory) GetToken(_ context.Context, brand gdpr.BrandID, digest string) (gdpr.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[memKey{brand, digest}]
	if !ok {
		return gdpr.Token{}, notFoundErr("token")
	}
	return t, nil
}

func (m *Memory) UpdateToken(_ context.Context, t gdpr.Token) (gdpr.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{t.BrandID, t.Digest}
	old, ok := m.tokens[k]
	switch {
	case !ok:
		return gdpr.Token{}, notFoundErr("token")
	case old.Version != t.Version:
		return gdpr.Token{}, conflictErr("stale token")
	}
	t.Version = m.nextVersion()
	m.tokens[k] = t
	return t, nil
}

func (m *Memory) AddWhitelist(_ context.Context, entries ...gdpr.WhitelistEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		m.listed[memKey{e.BrandID, string(e.Kind) + ":" + e.Digest}] = true
	}
	return nil
}

func (m *Memory) IsWhitelisted(_ context.Context, brand gdpr.BrandID, kind gdpr.WhitelistKind, digest string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.listed[memKey{brand, string(kind) + ":" + digest}], nil
}

func (m *Memory) CreateRequest(_ context.Context, r gdpr.Request) (gdpr.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{r.BrandID, r.ID}
	if _, ok := m.requests[k]; ok {
		return gdpr.Request{}, conflictErr("request exists")
	}
	r.Version = m.nextVersion()
	m.requests[k] = cloneRequest(r)
	return cloneRequest(r), nil
}

// cloneRequest is clone keeping the version, which JSON leaves out.
func cloneRequest(r gdpr.Request) gdpr.Request {
	c := clone(r)
	c.Version = r.Version
	return c
}

func (m *Memory) GetRequest(_ context.Context, brand gdpr.BrandID, id string) (gdpr.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.requests[memKey{brand, id}]
	if !ok {
		return gdpr.Request{}, notFoundErr("request")
	}
	return cloneRequest(r), nil
}

func (m *Memory) UpdateRequest(_ context.Context, r gdpr.Request) (gdpr.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{r.BrandID, r.ID}
	cur, ok := m.requests[k]
	switch {
	case !ok:
		return gdpr.Request{}, notFoundErr("request")
	case cur.Version != r.Version:
		return gdpr.Request{}, conflictErr("request changed since it was read")
	}
	r.Version = m.nextVersion()
	m.requests[k] = cloneRequest(r)
	return cloneRequest(r), nil
}

func (m *Memory) ListRequests(_ context.Context, brand gdpr.BrandID, f gdpr.RequestFilter) ([]gdpr.Request, error) {
	return m.selectRequests(brand, f.Limit, func(r gdpr.Request) bool {
		return r.ID > f.After && (f.Before == "" || r.ID < f.Before) && (f.Kind == "" || r.Kind == f.Kind)
	}), nil
}

func (m *Memory) RequestsOfSubject(_ context.Context, brand gdpr.BrandID, subjectID string, limit int) ([]gdpr.Request, error) {
	return m.selectRequests(brand, limit, func(r gdpr.Request) bool { return subjectID != "" && r.SubjectID == subjectID }), nil
}

func (m *Memory) selectRequests(brand gdpr.BrandID, limit int, keep func(gdpr.Request) bool) []gdpr.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdpr.Request
	for k, r := range m.requests {
		if k.brand == brand && keep(r) {
			out = append(out, cloneRequest(r))
		}
	}
	slices.SortFunc(out, func(a, b gdpr.Request) int { return cmp.Compare(a.ID, b.ID) })
	return out[:min(len(out), max(limit, 0))]
}

// ---- export records ----

func (m *Memory) CreateExport(_ context.Context, e gdpr.ExportRecord) (gdpr.ExportRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{e.BrandID, e.RequestID}
	if _, ok := m.exports[k]; ok {
		return gdpr.ExportRecord{}, conflictErr("export exists")
	}
	for _, other := range m.exports {
		if other.BrandID == e.BrandID && other.TokenDigest == e.TokenDigest {
			return gdpr.ExportRecord{}, conflictErr("token digest exists")
		}
	}
	e.Version = m.nextVersion()
	m.exports[k] = e
	return e, nil
}

func (m *Memory) GetExport(_ context.Context, brand gdpr.BrandID, requestID string) (gdpr.ExportRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.exports[memKey{brand, requestID}]
	if !ok {
		return gdpr.ExportRecord{}, notFoundErr("export")
	}
	return e, nil
}

func (m *Memory) ExportByToken(_ context.Context, brand gdpr.BrandID, digest string) (gdpr.ExportRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.exports {
		if k.brand == brand && e.TokenDigest == digest {
			return e, nil
		}
	}
	return gdpr.ExportRecord{}, notFoundErr("export")
}

func (m *Memory) UpdateExport(_ context.Context, e gdpr.ExportRecord) (gdpr.ExportRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{e.BrandID, e.RequestID}
	old, ok := m.exports[k]
	switch {
	case !ok:
		return gdpr.ExportRecord{}, notFoundErr("export")
	case old.Version != e.Version:
		return gdpr.ExportRecord{}, conflictErr("stale export")
	}
	e.Version = m.nextVersion()
	m.exports[k] = e
	return e, nil
}

func (m *Memory) LiveExports(_ context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.ExportRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdpr.ExportRecord
	for k, e := range m.exports {
		if k.brand == brand && e.Status != gdpr.ExportDeleted && e.RequestID > after {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b gdpr.ExportRecord) int { return cmp.Compare(a.RequestID, b.RequestID) })
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out, nil
}

// PutBlacklist merges each entry into the stored one (gdpr.BlacklistEntry.Merge), writing only
// what changes.
func (m *Memory) PutBlacklist(_ context.Context, entries ...gdpr.BlacklistEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		k := memKey{e.BrandID, e.Digest}
		stored, ok := m.black[k]
		if !ok {
			e = clone(e)
			e.Version = m.nextVersion()
			m.black[k] = e
			continue
		}
		if merged, changed := stored.Merge(clone(e)); changed {
			merged.Version = m.nextVersion()
			m.black[k] = merged
		}
	}
	return nil
}

func (m *Memory) GetBlacklist(_ context.Context, brand gdpr.BrandID, digest string) (gdpr.BlacklistEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.black[memKey{brand, digest}]
	if !ok {
		return gdpr.BlacklistEntry{}, notFoundErr("blacklist entry")
	}
	return e, nil
}

func (m *Memory) RemoveBlacklist(_ context.Context, e gdpr.BlacklistEntry, r gdpr.BlacklistRemoval) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{e.BrandID, e.Digest}
	stored, ok := m.black[k]
	switch {
	case !ok:
		return notFoundErr("blacklist entry")
	case stored.Version != e.Version:
		return conflictErr("the blacklist entry changed since it was read")
	}
	delete(m.black, k)
	if _, kept := m.removed[memKey{r.BrandID, r.ID}]; !kept {
		m.removed[memKey{r.BrandID, r.ID}] = clone(r)
	}
	return nil
}

func (m *Memory) ListBlacklistRemovals(_ context.Context, brand gdpr.BrandID, after string, limit int) ([]gdpr.BlacklistRemoval, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdpr.BlacklistRemoval
	for k, r := range m.removed {
		if k.brand == brand && k.id > after {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b gdpr.BlacklistRemoval) int { return cmp.Compare(a.ID, b.ID) })
	return out[:min(len(out), max(limit, 0))], nil
}

func (m *Memory) GetSoftBounces(_ context.Context, brand gdpr.BrandID, digest string) (gdpr.SoftBounceStreak, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.streaks[memKey{brand, digest}]
	if !ok {
		return gdpr.SoftBounceStreak{}, notFoundErr("soft-bounce streak")
	}
	out := clone(st)
	out.Version = st.Version
	return out, nil
}

func (m *Memory) PutSoftBounces(_ context.Context, st gdpr.SoftBounceStreak) (gdpr.SoftBounceStreak, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{st.BrandID, st.Digest}
	stored, ok := m.streaks[k]
	switch {
	case st.Version == "" && ok:
		return gdpr.SoftBounceStreak{}, conflictErr("the streak exists")
	case st.Version != "" && !ok:
		return gdpr.SoftBounceStreak{}, notFoundErr("soft-bounce streak")
	case st.Version != "" && stored.Version != st.Version:
		return gdpr.SoftBounceStreak{}, conflictErr("the streak changed since it was read")
	}
	out := clone(st)
	out.Version = m.nextVersion()
	m.streaks[k] = out
	return out, nil
}
