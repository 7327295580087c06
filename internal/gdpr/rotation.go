package gdpr

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// The hash-key rotation (R-ERASE-4): how the digests a brand stores move to the newest key,
// and how an operator knows when an older key is no longer used.
//
// Every stored digest names its key (digest.go). After a new key is added, new digests are
// made under it while every older version stays readable; HashKeyService then re-keys what
// is stored, brand by brand, in passes that are each idempotent, so the job is run again
// rather than resumed, and a job stopped anywhere, or run twice at once, leaves nothing wrong:
//
//   - users and contacts: each live subject's unique keys get their claim under the newest
//     version, by the unique-key protocol (reserve), naming the subject; once a version is
//     retired its claims are let go. An erased subject's hashed fields, whose values are
//     gone, are wrapped up to the newest key.
//   - the blacklist and the whitelist: an old digest whose value a live subject still holds
//     (a member's or a contact's address, a member's customer id) is computed again under the
//     newest key; any other is wrapped. Each entry moves by RekeyBlacklist/RekeyWhitelist:
//     the new entry first, then the old one goes, so an address is never unlisted.
//   - the soft-bounce policy's streaks move as the blacklist's entries do.
//   - a brand's own secrets kept as digests (Mailjet callback password, SCIM token) are
//     wrapped; Hasher.Matches checks them under any form.
//
// The ledger holds no digest: its records name subjects by id, rules and counts, and its
// seals hash those records with plain SHA-256. Re-keying changes nothing it sealed.

// KeyUse counts the stored digests of one form (a plain version "h1" or a wrapped chain
// "h2.h1") by where they are kept.
type KeyUse struct {
	Claims    int `json:"claims"`
	Blacklist int `json:"blacklist"`
	Whitelist int `json:"whitelist"`
	Users     int `json:"users"`    // erased members' and external users' hashed fields
	Contacts  int `json:"contacts"` // erased contacts' addresses
	Brands    int `json:"brands"`   // brand secrets kept as digests
	// SoftBounces counts the soft-bounce policy's streaks, kept by address digest.
	SoftBounces int `json:"softBounces"`
}

func (u KeyUse) total() int {
	return u.Claims + u.Blacklist + u.Whitelist + u.Users + u.Contacts + u.Brands + u.SoftBounces
}

func (u *KeyUse) add(o KeyUse) {
	u.Claims += o.Claims
	u.Blacklist += o.Blacklist
	u.Whitelist += o.Whitelist
	u.Users += o.Users
	u.Contacts += o.Contacts
	u.Brands += o.Brands
	u.SoftBounces += o.SoftBounces
}

// KeyVersionState says what a key version does now.
type KeyVersionState string

const (
	KeyNewest  KeyVersionState = "newest"  // every new digest
	KeyActive  KeyVersionState = "active"  // looked up, and claimed, beside the newest
	KeyRetired KeyVersionState = "retired" // only inside wrapped digests
)

// KeyVersionReport is one version's use across what was counted.
type KeyVersionReport struct {
	Version string          `json:"version"`
	State   KeyVersionState `json:"state"`
	// Plain counts digests made under this version; Outermost wrapped chains it last
	// wrapped; Inside wrapped chains that need its key to be computed.
	Plain     int `json:"plain"`
	Outermost int `json:"outermost"`
	Inside    int `json:"inside"`
	// MissingTwins counts live subjects' unique keys not yet claimed under the newest version.
	// Retirable: nothing but claims the newest version doubles is plain under it, and nothing
	// is wrapped by it last; GDPR_HASH_KEYS_RETIRED may then name it.
	Retirable bool `json:"retirable"`
	// KeyNeeded: wrapped digests still need its key, so it stays in GDPR_HASH_KEYS.
	KeyNeeded bool `json:"keyNeeded"`
}

// KeyReport is what GET /api/admin/hash-keys answers: per form of digest, how many are
// stored, and per version what that means.
type KeyReport struct {
	Newest       string             `json:"newest"`
	Versions     []KeyVersionReport `json:"versions"`
	Forms        map[string]KeyUse  `json:"forms"`
	MissingTwins int                `json:"missingTwins"`
	Brands       []BrandKeyUse      `json:"brands"`
}

// BrandKeyUse is one brand's digests per form.
type BrandKeyUse struct {
	BrandID      BrandID           `json:"brandId"`
	Forms        map[string]KeyUse `json:"forms"`
	MissingTwins int               `json:"missingTwins"`
}

// RekeyResult is what one run of the re-keying did.
type RekeyResult struct {
	Brands    int `json:"brands"`
	Twins     int `json:"twins"`     // claims this run took under the newest version (a concurrent run may count one too)
	Released  int `json:"released"`  // claims of retired versions let go
	Rekeyed   int `json:"rekeyed"`   // digests computed again from the value still held
	Wrapped   int `json:"wrapped"`   // digests wrapped up to the newest key
	Conflicts int `json:"conflicts"` // unique keys another live subject holds: left, counted
	// Done is false when the run stopped at its time budget: run it again.
	Done bool `json:"done"`
}

// HashKeyService counts and re-keys the stored digests (above).
type HashKeyService struct {
	core
	users    UserStore
	contacts ContactDocuments
	claims   ClaimStore
	digests  DigestStore
	budget   time.Duration
}

// HashKeyDeps are the ports HashKeyService uses.
type HashKeyDeps struct {
	Users    UserStore
	Contacts ContactDocuments
	Claims   ClaimStore
	Digests  DigestStore
}

// rekeyBudget is how long one run goes on before it stops between two pages; under the host
// an HTTP call lasts at most 230 seconds.
const rekeyBudget = 3 * time.Minute

// rekeyPage is how many documents one store read brings.
const rekeyPage = 200

// NewHashKeyService returns the service over its ports.
func NewHashKeyService(c Core, d HashKeyDeps) (*HashKeyService, error) {
	cc, err := c.check()
	if err != nil {
		return nil, err
	}
	if err := missing("NewHashKeyService", map[string]bool{"Users": d.Users != nil, "Contacts": d.Contacts != nil,
		"Claims": d.Claims != nil, "Digests": d.Digests != nil}); err != nil {
		return nil, err
	}
	return &HashKeyService{core: cc, users: d.Users, contacts: d.Contacts, claims: d.Claims, digests: d.Digests, budget: rekeyBudget}, nil
}

// Report counts every stored digest by form, of one brand or (brand "") of every brand.
func (s *HashKeyService) Report(ctx context.Context, brand BrandID) (KeyReport, error) {
	brands, err := s.brandsOf(ctx, brand)
	if err != nil {
		return KeyReport{}, err
	}
	r := KeyReport{Newest: s.hasher.Newest(), Forms: map[string]KeyUse{}, Brands: []BrandKeyUse{}}
	for _, b := range brands {
		w := s.walker(b, false)
		if err := w.run(ctx); err != nil {
			return KeyReport{}, err
		}
		r.Brands = append(r.Brands, BrandKeyUse{BrandID: b.ID, Forms: w.forms, MissingTwins: w.missingTwins})
		for form, use := range w.forms {
			total := r.Forms[form]
			total.add(use)
			r.Forms[form] = total
		}
		r.MissingTwins += w.missingTwins
	}
	for _, v := range s.hasher.Versions() {
		r.Versions = append(r.Versions, s.versionReport(v, r.Forms, r.MissingTwins))
	}
	return r, nil
}

func (s *HashKeyService) versionReport(v string, forms map[string]KeyUse, missingTwins int) KeyVersionReport {
	vr := KeyVersionReport{Version: v, State: KeyActive}
	switch {
	case v == s.hasher.Newest():
		vr.State = KeyNewest
	case s.hasher.Retired(v):
		vr.State = KeyRetired
	}
	plainBeyondClaims := 0
	for form, use := range forms {
		chain := strings.Split(form, ".")
		switch {
		case len(chain) == 1 && chain[0] == v:
			vr.Plain += use.total()
			plainBeyondClaims += use.total() - use.Claims
			if vr.State == KeyRetired {
				plainBeyondClaims += use.Claims // a retired version's claims are the re-keying's to let go
			}
		case chain[0] == v:
			vr.Outermost += use.total()
		case slices.Contains(chain, v):
			vr.Inside += use.total()
		}
	}
	vr.KeyNeeded = vr.State == KeyNewest || vr.Plain+vr.Outermost+vr.Inside > 0
	vr.Retirable = vr.State != KeyNewest && plainBeyondClaims == 0 && vr.Outermost == 0 && missingTwins == 0
	return vr
}

// errKeyInUse refuses to call a version retirable while digests still use it.
var errKeyInUse = Errorf(CodeConflict, "this hash key version still has stored digests or unclaimed keys; run the re-keying and look again")

// CheckRetire answers whether version may be retired: ErrNotFound for a version the
// deployment does not hold, a conflict while anything stored still needs it plain or as
// the outermost key of a wrapped digest (or the re-keying has not given every live
// subject its claims under the newest key), or the newest version.
func (s *HashKeyService) CheckRetire(ctx context.Context, version string) (KeyVersionReport, error) {
	if !slices.Contains(s.hasher.Versions(), version) {
		return KeyVersionReport{}, Errorf(CodeNotFound, "no such hash key version")
	}
	r, err := s.Report(ctx, "")
	if err != nil {
		return KeyVersionReport{}, err
	}
	for _, vr := range r.Versions {
		if vr.Version == version && vr.Retirable {
			return vr, nil
		}
	}
	return KeyVersionReport{}, errKeyInUse
}

// Rekey moves the digests of one brand, or (brand "") of every brand, to the newest key.
func (s *HashKeyService) Rekey(ctx context.Context, brand BrandID) (RekeyResult, error) {
	brands, err := s.brandsOf(ctx, brand)
	if err != nil {
		return RekeyResult{}, err
	}
	deadline := s.clock.Now().Add(s.budget)
	var res RekeyResult
	for _, b := range brands {
		w := s.walker(b, true)
		w.deadline = deadline
		if err := w.run(ctx); errors.Is(err, errRekeyBudget) {
			s.log.InfoContext(ctx, "hash-key re-keying stopped at its budget", "brand", b.ID)
			return res, nil
		} else if err != nil {
			return RekeyResult{}, err
		}
		res.Brands++
		res.Twins += w.res.Twins
		res.Released += w.res.Released
		res.Rekeyed += w.res.Rekeyed
		res.Wrapped += w.res.Wrapped
		res.Conflicts += w.res.Conflicts
		s.log.InfoContext(ctx, "hash keys re-keyed", "brand", b.ID, "twins", w.res.Twins, "released", w.res.Released,
			"rekeyed", w.res.Rekeyed, "wrapped", w.res.Wrapped, "conflicts", w.res.Conflicts)
	}
	res.Done = true
	return res, nil
}

func (s *HashKeyService) brandsOf(ctx context.Context, brand BrandID) ([]Brand, error) {
	if brand != "" {
		b, err := s.brand(ctx, brand)
		if err != nil {
			return nil, err
		}
		return []Brand{b}, nil
	}
	return s.brands.ListBrands(ctx)
}

var errRekeyBudget = errors.New("gdpr: re-keying budget spent")

// rekeyWalker walks one brand's digests, counting them by form and, when write is set,
// moving them to the newest key.
type rekeyWalker struct {
	s        *HashKeyService
	b        Brand
	write    bool
	deadline time.Time
	// held maps an old plain digest to the newest digest of the value a live subject holds.
	held         map[string]string
	forms        map[string]KeyUse
	missingTwins int
	res          RekeyResult
}

func (s *HashKeyService) walker(b Brand, write bool) *rekeyWalker {
	return &rekeyWalker{s: s, b: b, write: write, held: map[string]string{}, forms: map[string]KeyUse{}}
}

// run walks subjects first (their claims, and the values they hold), then the lists, then
// the brand's secrets; counting happens after any move, so a report after a run says what
// is left.
func (w *rekeyWalker) run(ctx context.Context) error {
	for _, step := range []func(context.Context) error{w.users, w.contacts, w.claimList, w.blacklist, w.whitelist, w.softBounces, w.brandSecrets} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (w *rekeyWalker) pageDone() error {
	if w.write && !w.deadline.IsZero() && !w.s.clock.Now().Before(w.deadline) {
		return errRekeyBudget
	}
	return nil
}

func (w *rekeyWalker) count(digest string, add func(*KeyUse)) {
	chain, ok := w.s.hasher.DigestChain(digest)
	if !ok {
		return
	}
	form := strings.Join(chain, ".")
	u := w.forms[form]
	add(&u)
	w.forms[form] = u
}

// hold records that a live subject holds value, for the lists' entries made of it.
func (w *rekeyWalker) hold(value string) {
	h := w.s.hasher
	newest := h.Digest(value)
	for _, d := range h.AllDigests(value)[1:] {
		w.held[d] = newest
	}
}

// userKeys are a live user's unique keys, each as its claim keys under every version, newest
// first: what it must hold under the newest.
func (w *rekeyWalker) userKeys(u User) [][]string {
	h := w.s.hasher
	var keys [][]string
	for _, e := range []string{u.Email, u.EmailTmp} {
		if e != "" {
			keys = append(keys, keyed(ClaimEmail, h.AllDigests(NormalizeEmail(e))))
		}
	}
	if u.ExternalID != "" {
		keys = append(keys, keyed(ClaimExternalID, h.AllDigests(u.ExternalID)))
	}
	return keys
}

func (w *rekeyWalker) users(ctx context.Context) error {
	keys := uniqueKeys[User]{claims: w.s.claims, holders: userHolders{users: w.s.users}, clock: w.s.clock, wait: w.s.wait}
	for after := ""; ; {
		page, err := w.s.users.ListUsers(ctx, w.b.ID, after, rekeyPage)
		if err != nil {
			return err
		}
		for _, u := range page {
			if u.Status == UserErased {
				if err := w.erasedUser(ctx, u); err != nil {
					return err
				}
				continue
			}
			for _, v := range []string{u.Email, u.EmailTmp} {
				if v != "" {
					w.hold(NormalizeEmail(v))
				}
			}
			if u.CustomerID != "" {
				w.hold(u.CustomerID)
			}
			for _, k := range w.userKeys(u) {
				if err := twin(ctx, w, keys, k, u.ID); err != nil {
					return err
				}
			}
		}
		if len(page) < rekeyPage {
			return nil
		}
		after = page[len(page)-1].ID
		if err := w.pageDone(); err != nil {
			return err
		}
	}
}

// twin gives owner the key under the newest version (k[0]) by the unique-key protocol, then,
// holding it, lets go of the key under the retired versions. Counting only, it checks the
// newest claim is there.
func twin[T any](ctx context.Context, w *rekeyWalker, keys uniqueKeys[T], k []string, owner string) error {
	if !w.write {
		c, err := w.s.claims.GetClaim(ctx, w.b.ID, k[0])
		if errors.Is(err, ErrNotFound) || err == nil && c.Owner != owner {
			w.missingTwins++
			return nil
		}
		return err
	}
	c, err := w.s.claims.GetClaim(ctx, w.b.ID, k[0])
	switch {
	case err == nil && c.Owner == owner:
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	default:
		holder, err := keys.reserveOne(ctx, w.b.ID, k[0], owner)
		if err != nil {
			return err
		}
		if holder != owner {
			w.res.Conflicts++
			w.s.log.WarnContext(ctx, "a unique key is held by two live subjects under different key versions", "brand", w.b.ID,
				"subject", owner, "holder", holder)
			return nil
		}
		w.res.Twins++
	}
	var retired []string
	for _, key := range k[1:] {
		if chain, ok := w.s.hasher.DigestChain(claimDigest(key)); ok && w.s.hasher.Retired(chain[0]) {
			retired = append(retired, key)
		}
	}
	if len(retired) > 0 {
		if err := w.s.claims.ReleaseClaims(ctx, w.b.ID, owned(retired, owner)...); err != nil {
			return err
		}
	}
	return nil
}

// erasedUser wraps the hashed fields of an erased user whose digests are under an older key.
func (w *rekeyWalker) erasedUser(ctx context.Context, u User) error {
	fields := []*string{&u.Email, &u.EmailTmp, &u.CustomerID, &u.SocialID, &u.ExternalID, &u.IdPExternalID}
	if w.write && w.rewrapAll(fields) {
		if _, err := w.s.users.UpdateUser(ctx, u); err != nil && !errors.Is(err, ErrConflict) {
			return err // a conflict: changed meanwhile; the next run wraps it
		}
	}
	for _, f := range fields {
		w.count(*f, func(k *KeyUse) { k.Users++ })
	}
	return nil
}

// rewrapAll wraps each digest not under the newest key; it reports whether any changed.
func (w *rekeyWalker) rewrapAll(fields []*string) bool {
	changed := false
	for _, f := range fields {
		if d, ok := w.s.hasher.Rewrap(*f); ok {
			*f, changed = d, true
			w.res.Wrapped++
		}
	}
	return changed
}

func (w *rekeyWalker) contacts(ctx context.Context) error {
	keys := uniqueKeys[Contact]{claims: w.s.claims, holders: contactHolders{contacts: w.s.contacts}, clock: w.s.clock, wait: w.s.wait}
	for after := ""; ; {
		page, err := w.s.contacts.ListContacts(ctx, w.b.ID, after, rekeyPage)
		if err != nil {
			return err
		}
		for _, c := range page {
			switch {
			case c.Erased():
				if w.write && w.rewrapAll([]*string{&c.Email}) {
					if _, err := w.s.contacts.UpdateContact(ctx, c); err != nil && !errors.Is(err, ErrConflict) {
						return err
					}
				}
				w.count(c.Email, func(k *KeyUse) { k.Contacts++ })
			case c.Email != "":
				addr := NormalizeEmail(c.Email)
				w.hold(addr)
				if c.MemberID != "" {
					if err := twin(ctx, w, keys, keyed(claimContact+c.MemberID+":", w.s.hasher.AllDigests(addr)), c.ID); err != nil {
						return err
					}
				}
			}
		}
		if len(page) < rekeyPage {
			return nil
		}
		after = page[len(page)-1].ID
		if err := w.pageDone(); err != nil {
			return err
		}
	}
}

// claimList lets go of the claims of retired versions that no live subject holds (its
// subject erased, or a rate limit), and counts what stays.
func (w *rekeyWalker) claimList(ctx context.Context) error {
	for after := ""; ; {
		page, err := w.s.digests.ListClaims(ctx, w.b.ID, after, rekeyPage)
		if err != nil {
			return err
		}
		for _, c := range page {
			d := claimDigest(c.Key)
			chain, ok := w.s.hasher.DigestChain(d)
			if !ok {
				continue
			}
			if w.write && w.s.hasher.Retired(chain[0]) && w.releasable(ctx, c) {
				if err := w.s.claims.ReleaseClaims(ctx, w.b.ID, c); err != nil {
					return err
				}
				w.res.Released++
				continue
			}
			w.count(d, func(k *KeyUse) { k.Claims++ })
		}
		if len(page) < rekeyPage {
			return nil
		}
		after = page[len(page)-1].Key
		if err := w.pageDone(); err != nil {
			return err
		}
	}
}

// releasable: a retired version's claim goes unless it names a live subject or a create in
// progress (a process still on the older keys); the subjects' pass has already given each
// live subject its newest claim and let go of its retired ones.
func (w *rekeyWalker) releasable(ctx context.Context, c Claim) bool {
	if strings.HasPrefix(c.Key, ClaimResend) || strings.HasPrefix(c.Key, ClaimRequestKey) {
		return true // a rate limit, or an Idempotency-Key kept a day: nothing is lost with it
	}
	var state holder
	var err error
	if strings.HasPrefix(c.Key, claimContact) {
		_, state, err = contactHolders{contacts: w.s.contacts}.holder(ctx, w.b.ID, c.Owner)
	} else {
		_, state, err = userHolders{users: w.s.users}.holder(ctx, w.b.ID, c.Owner)
	}
	return err == nil && (state == holderGone || state == holderPending && stale(c, w.s.clock.Now()))
}

// claimDigest is the digest inside a claim key of a kind made of one, or "".
func claimDigest(key string) string {
	for _, kind := range []string{ClaimEmail, ClaimExternalID, ClaimResend, ClaimRequestKey} {
		if d, ok := strings.CutPrefix(key, kind); ok {
			return d
		}
	}
	if rest, ok := strings.CutPrefix(key, claimContact); ok {
		if _, d, ok := strings.Cut(rest, ":"); ok {
			return d
		}
	}
	return ""
}

// newDigest is where an old digest goes: under the newest key from the value a live
// subject still holds (rekeyed), else wrapped; "" when it already is under the newest.
func (w *rekeyWalker) newDigest(d string) (string, bool) {
	if to, ok := w.held[d]; ok {
		return to, true
	}
	to, ok := w.s.hasher.Rewrap(d)
	if !ok {
		return "", false
	}
	return to, false
}

func (w *rekeyWalker) blacklist(ctx context.Context) error {
	return rekeyDigests(ctx, w, "",
		func(ctx context.Context, after string) ([]BlacklistEntry, error) {
			return w.s.digests.ListBlacklist(ctx, w.b.ID, after, rekeyPage)
		},
		func(e BlacklistEntry) string { return e.Digest },
		func(e *BlacklistEntry) *string { return &e.Digest },
		w.s.digests.RekeyBlacklist, func(k *KeyUse) { k.Blacklist++ })
}

// rekeyDigests walks one list of entries keyed by an address digest, a page at a time: when
// the walk writes, each entry moves to its digest under the newest key (computed again from a
// value still held, or wrapped), and each is counted under the version it ends with. The
// blacklist, the whitelist and the soft-bounce streaks differ only in their store methods.
func rekeyDigests[T, C any](ctx context.Context, w *rekeyWalker, start C,
	list func(ctx context.Context, after C) ([]T, error), cursor func(T) C, digest func(*T) *string,
	move func(ctx context.Context, from string, moved T) error, add func(*KeyUse)) error {
	for after := start; ; {
		page, err := list(ctx, after)
		if err != nil {
			return err
		}
		for _, e := range page {
			d := *digest(&e)
			if to, fromValue := w.newDigest(d); w.write && to != "" {
				moved := e
				*digest(&moved) = to
				if err := move(ctx, d, moved); err != nil {
					return err
				}
				w.tally(fromValue)
				d = to
			}
			w.count(d, add)
		}
		if len(page) < rekeyPage {
			return nil
		}
		after = cursor(page[len(page)-1])
		if err := w.pageDone(); err != nil {
			return err
		}
	}
}
func (w *rekeyWalker) tally(fromValue bool) {
	if fromValue {
		w.res.Rekeyed++
	} else {
		w.res.Wrapped++
	}
}

func (w *rekeyWalker) whitelist(ctx context.Context) error {
	return rekeyDigests(ctx, w, WhitelistEntry{},
		func(ctx context.Context, after WhitelistEntry) ([]WhitelistEntry, error) {
			return w.s.digests.ListWhitelist(ctx, w.b.ID, after, rekeyPage)
		},
		func(e WhitelistEntry) WhitelistEntry { return e },
		func(e *WhitelistEntry) *string { return &e.Digest },
		w.s.digests.RekeyWhitelist, func(k *KeyUse) { k.Whitelist++ })
}

// softBounces moves the soft-bounce policy's streaks as the blacklist's entries move: each
// streak's address digest computed again from the value held, or wrapped. A streak the newest
// key began meanwhile for the same address is kept and the older one goes: a few counted
// bounces may be lost, never an address's suppression, which is a blacklist entry.
func (w *rekeyWalker) softBounces(ctx context.Context) error {
	return rekeyDigests(ctx, w, "",
		func(ctx context.Context, after string) ([]SoftBounceStreak, error) {
			return w.s.digests.ListSoftBounces(ctx, w.b.ID, after, rekeyPage)
		},
		func(st SoftBounceStreak) string { return st.Digest },
		func(st *SoftBounceStreak) *string { return &st.Digest },
		w.s.digests.RekeySoftBounces, func(k *KeyUse) { k.SoftBounces++ })
}

// brandSecrets wraps the brand's callback password and SCIM token digests, guarded by the
// brand's version; a brand changed meanwhile is wrapped by the next run.
func (w *rekeyWalker) brandSecrets(ctx context.Context) error {
	b := w.b
	fields := []*string{&b.MailjetCallback.PasswordDigest, &b.SCIMTokenDigest}
	if w.write && w.rewrapAll(fields) {
		if _, err := w.s.brands.PutBrand(ctx, b); err != nil && !errors.Is(err, ErrConflict) {
			return err
		}
	}
	for _, f := range fields {
		w.count(*f, func(k *KeyUse) { k.Brands++ })
	}
	return nil
}
