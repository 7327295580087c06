package gdpr

import (
	"context"
	"errors"
	"time"
)

// The unique-key protocol: how a member is made unique by its address and its external id
// (R-DATA-1, R-SSO-1), and a member's contact by its address (R-CONSENT-5), without
// transactions across documents, and why no interleaving of writers, readers and crashes
// loses a key. It is written for users below; contacts follow it the same way (their void
// document is an erased contact of no member).
//
//  1. A creator picks the new user's id first and claims each key in a fixed order (external
//     id, then address) naming that id, before the user exists. Only then does it create the
//     user. The fixed order means two creators never wait on each other in a cycle.
//  2. A claim is never released by a reader. Its owner releases it (a creator that gave up, an
//     update that moved to another key, the erasure worker), always guarded by the owner.
//  3. A writer that finds a key held looks at the holder:
//     - a live user: the key is taken;
//     - an erased user: the key is free again, and is taken over at the claim's version;
//     - no user yet: a create in progress. The writer waits for it. Only after ClaimLease
//     may it decide the creator died; it then fences the creator first, by creating the
//     user document under the creator's id itself, as a void user (erased, no data), so
//     that the creator's own create fails if it was only slow; then it takes the claim over
//     at the version it read.
//  4. A creator whose create fails for a conflict was fenced: it starts over, and finds the
//     key held by whoever recovered it.
//
// Correctness rests on the fence and the versions, never on the lease: a lease that runs
// out too early (a paused process, a clock that jumps) costs a creator a retry, not a member.
// The model test drives these steps in every interleaving of two and three writers with
// crashes (uniquekeys_model_test.go).

// ClaimLease is how long a claim may name a user that does not exist yet before a writer may
// recover it. A create takes a few store requests; a creator silent for this long has died.
const ClaimLease = 30 * time.Second

// claimWaits bounds the looks at one held key; with claimBackoff's growth the last look comes
// well after ClaimLease, so a key is resolved (taken, free, or recovered) before it runs out.
const claimWaits = 48

// claimBackoff is the wait before the n-th look again at a create in progress.
func claimBackoff(n int) time.Duration {
	return min(5*time.Millisecond<<min(n, 10), time.Second)
}

// waitFor sleeps for d unless ctx ends first: the production Core.Wait.
func waitFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errKeyContended is the answer when a key stayed contended through every look: only a
// pathological schedule gets it.
var errKeyContended = Errorf(CodeUnavailable, "could not reserve a unique key, try again")

// uniqueKeys runs the protocol above over the claims of a brand and the documents they name:
// users (an address, an external id) or contacts (a member's copy of an address).
type uniqueKeys[T any] struct {
	claims  ClaimStore
	holders keyHolders[T]
	clock   Clock
	wait    func(ctx context.Context, d time.Duration) error
}

// keyHolders reads and fences the documents claims name.
type keyHolders[T any] interface {
	// holder reads the document id names and says what it is to the key.
	holder(ctx context.Context, brand BrandID, id string) (T, holder, error)
	// fence creates a void document under id (erased, no data); ErrConflict if it exists.
	fence(ctx context.Context, brand BrandID, id string, now time.Time) error
}

// holder is what a key's claim points at.
type holder int

const (
	holderLive    holder = iota // a document that exists and is not erased: the key is its
	holderGone                  // an erased (or void) document: the key may be taken over
	holderPending               // no document: a create in progress, or one whose creator died
)

// userHolders are the users that address and external-id claims name.
type userHolders struct{ users UserStore }

func (h userHolders) holder(ctx context.Context, brand BrandID, id string) (User, holder, error) {
	u, err := h.users.GetUser(ctx, brand, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, holderPending, nil
	case err != nil:
		return User{}, 0, err
	case u.Status == UserErased:
		return u, holderGone, nil
	}
	return u, holderLive, nil
}

func (h userHolders) fence(ctx context.Context, brand BrandID, id string, now time.Time) error {
	_, err := h.users.CreateUser(ctx, voidUser(brand, id, now))
	return err
}

// contactHolders are the contacts that a member's claim on an address names (R-CONSENT-5).
type contactHolders struct{ contacts ContactDocuments }

func (h contactHolders) holder(ctx context.Context, brand BrandID, id string) (Contact, holder, error) {
	c, err := h.contacts.GetContact(ctx, brand, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Contact{}, holderPending, nil
	case err != nil:
		return Contact{}, 0, err
	case c.Erased():
		return c, holderGone, nil
	}
	return c, holderLive, nil
}

// fence creates a void contact: erased, of no member, with nothing to review.
func (h contactHolders) fence(ctx context.Context, brand BrandID, id string, now time.Time) error {
	_, err := h.contacts.CreateContact(ctx, Contact{BrandID: brand, ID: id, CreatedAt: now, ErasedAt: now})
	return err
}

// stale reports a pending claim old enough to be recovered. A claim from the future (a clock
// set back, another instance's skewed clock) counts as old once it is a lease ahead.
func stale(c Claim, now time.Time) bool {
	age := now.Sub(c.CreatedAt)
	return age >= ClaimLease || age <= -ClaimLease
}

// reserve claims a key for owner, under each of its digests (keys: one per active hash-key
// version, newest first, Hasher.Digests), and returns who holds it: owner, or the live user
// that has it under any version. Claiming under every active version, in one fixed order, is
// what keeps a key unique across a key rotation without moving claims: a claim written under
// h1 before the rotation and a create under h2 after it meet on h1, which both claim, and
// once the re-keying gave every holder its h2 claim and h1 is retired, they meet on h2. A key
// held by another under one version is let go under the versions already taken.
func (k uniqueKeys[T]) reserve(ctx context.Context, brand BrandID, keys []string, owner string) (string, error) {
	for i, key := range keys {
		holder, err := k.reserveOne(ctx, brand, key, owner)
		if err == nil && holder == owner {
			continue
		}
		if i > 0 {
			k.release(ctx, brand, owner, keys[:i]...)
		}
		return holder, err
	}
	return owner, nil
}

// reserveOne claims key for owner and returns who holds it: owner, or the live user that has it.
func (k uniqueKeys[T]) reserveOne(ctx context.Context, brand BrandID, key, owner string) (string, error) {
	for look := range claimWaits {
		now := k.clock.Now()
		held, err := k.claims.Claim(ctx, Claim{BrandID: brand, Key: key, Owner: owner, CreatedAt: now})
		switch {
		case err == nil:
			return owner, nil
		case !errors.Is(err, ErrConflict):
			return "", err
		case held.Owner == owner:
			return owner, nil // ours already: a step repeated
		}
		_, state, err := k.holders.holder(ctx, brand, held.Owner)
		if err != nil {
			return "", err
		}
		switch state {
		case holderLive:
			return held.Owner, nil
		case holderPending:
			if !stale(held, now) {
				if err := k.wait(ctx, claimBackoff(look)); err != nil {
					return "", err
				}
				continue
			}
			if err := k.holders.fence(ctx, brand, held.Owner, now); errors.Is(err, ErrConflict) {
				continue // created meanwhile: look again
			} else if err != nil {
				return "", err
			}
		}
		took := Claim{BrandID: brand, Key: key, Owner: owner, CreatedAt: now, Version: held.Version}
		if _, err := k.claims.ReplaceClaim(ctx, took); err == nil {
			return owner, nil
		} else if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		// Changed since read (released, recovered by another): look again.
	}
	return "", errKeyContended
}

// voidUser is the document that fences an abandoned create: erased, with no personal data and
// nothing left to do, so that every path treats it as a subject already erased.
func voidUser(brand BrandID, id string, now time.Time) User {
	return User{BrandID: brand, ID: id, Kind: SubjectMember, Status: UserErased, CreatedAt: now,
		Erasure: &ErasureState{Reason: ReasonAbandoned, Rule: "claim-recovery", RequestedAt: now, DueAt: now, Step: stepDone, DoneAt: now}}
}

// find reads the live user holding key, waiting for a create in progress to finish: a writer
// (an upsert, a deletion) must not decide on a user that is about to exist. A key nobody
// holds, or whose holder is erased or died before creating it, finds nothing. It never
// changes a claim: readers leave recovery to writers.
func (k uniqueKeys[T]) find(ctx context.Context, brand BrandID, keys []string) (T, bool, error) {
	for look := range claimWaits {
		u, state, err := k.peek(ctx, brand, keys)
		if err != nil || state != holderPending {
			return u, state == holderLive, err
		}
		if err := k.wait(ctx, claimBackoff(look)); err != nil {
			var zero T
			return zero, false, err
		}
	}
	var zero T
	return zero, false, errKeyContended
}

// peek reads what holds key now, without waiting: a read-only request answers from what is
// stored (a create in progress is not there yet), so a dead creator's claim never makes it
// wait out the lease. A stale pending claim, or none, reads as gone. Of a key's digests
// (one per active hash-key version) a live holder under any of them answers, then a pending
// one.
func (k uniqueKeys[T]) peek(ctx context.Context, brand BrandID, keys []string) (T, holder, error) {
	var zero, pending T
	found := holderGone
	for _, key := range keys {
		u, state, err := k.peekOne(ctx, brand, key)
		switch {
		case err != nil:
			return zero, 0, err
		case state == holderLive:
			return u, holderLive, nil
		case state == holderPending && found == holderGone:
			pending, found = u, holderPending
		}
	}
	return pending, found, nil
}

func (k uniqueKeys[T]) peekOne(ctx context.Context, brand BrandID, key string) (T, holder, error) {
	var zero T
	held, err := k.claims.GetClaim(ctx, brand, key)
	if errors.Is(err, ErrNotFound) {
		return zero, holderGone, nil
	}
	if err != nil {
		return zero, 0, err
	}
	u, state, err := k.holders.holder(ctx, brand, held.Owner)
	if err == nil && state == holderPending && stale(held, k.clock.Now()) {
		state = holderGone
	}
	return u, state, err
}

// release lets go of keys owner holds, after a create that gave up. A key recovered by another
// writer meanwhile is theirs and stays.
func (k uniqueKeys[T]) release(ctx context.Context, brand BrandID, owner string, keys ...string) {
	claims := make([]Claim, len(keys))
	for i, key := range keys {
		claims[i] = Claim{Key: key, Owner: owner}
	}
	_ = k.claims.ReleaseClaims(ctx, brand, claims...)
}

// claimOf reads a key's claim under each of its digests (keyed: one per active hash-key
// version, newest first) and answers the first stored, ErrNotFound if none is. It reads every
// one, found or not, so that a route that must take the same time whatever the address
// (Resend) does the same work.
func claimOf(ctx context.Context, claims ClaimStore, brand BrandID, keys []string) (Claim, error) {
	found, ferr := Claim{}, error(ErrNotFound)
	for _, k := range keys {
		c, err := claims.GetClaim(ctx, brand, k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Claim{}, err
		}
		if errors.Is(ferr, ErrNotFound) {
			found, ferr = c, nil
		}
	}
	return found, ferr
}

// owned is the claims of keys that owner may let go of: ReleaseClaims deletes each only if
// owner still holds it.
func owned(keys []string, owner string) []Claim {
	out := make([]Claim, len(keys))
	for i, k := range keys {
		out[i] = Claim{Key: k, Owner: owner}
	}
	return out
}

// keyed prefixes each of a unique key's digests (one per active hash-key version, newest
// first: Hasher.Digests) with the key's kind, giving the claim keys reserve and find take.
func keyed(kind string, digests []string) []string {
	out := make([]string, len(digests))
	for i, d := range digests {
		out[i] = kind + d
	}
	return out
}
