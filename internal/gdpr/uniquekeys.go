package gdpr

import (
	"context"
	"errors"
	"time"
)

// The unique-key protocol: how a member is made unique by its address and its external id
// without transactions across documents (R-DATA-1, R-SSO-1), and why no interleaving of
// writers, readers and crashes loses a member's key.
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

// uniqueKeys runs the protocol above over the claims and the users of a brand.
type uniqueKeys struct {
	claims ClaimStore
	users  UserStore
	clock  Clock
	wait   func(ctx context.Context, d time.Duration) error
}

// holder is what a key's claim points at.
type holder int

const (
	holderLive    holder = iota // a user that exists and is not erased: the key is theirs
	holderGone                  // an erased (or void) user: the key may be taken over
	holderPending               // no user: a create in progress, or one whose creator died
)

func (k uniqueKeys) holderOf(ctx context.Context, brand BrandID, owner string) (User, holder, error) {
	u, err := k.users.GetUser(ctx, brand, owner)
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

// stale reports a pending claim old enough to be recovered. A claim from the future (a clock
// set back, another instance's skewed clock) counts as old once it is a lease ahead.
func stale(c Claim, now time.Time) bool {
	age := now.Sub(c.CreatedAt)
	return age >= ClaimLease || age <= -ClaimLease
}

// reserve claims key for owner and returns who holds it: owner, or the live user that has it.
func (k uniqueKeys) reserve(ctx context.Context, brand BrandID, key, owner string) (string, error) {
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
		_, state, err := k.holderOf(ctx, brand, held.Owner)
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
			if err := k.fence(ctx, brand, held.Owner, now); errors.Is(err, ErrConflict) {
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

// fence makes sure a creator that lost its claim cannot create its user later: its user id
// gets a void user, erased and without data. ErrConflict means the user exists after all.
func (k uniqueKeys) fence(ctx context.Context, brand BrandID, owner string, now time.Time) error {
	_, err := k.users.CreateUser(ctx, voidUser(brand, owner, now))
	return err
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
func (k uniqueKeys) find(ctx context.Context, brand BrandID, key string) (User, bool, error) {
	for look := range claimWaits {
		u, state, err := k.peek(ctx, brand, key)
		if err != nil || state != holderPending {
			return u, state == holderLive, err
		}
		if err := k.wait(ctx, claimBackoff(look)); err != nil {
			return User{}, false, err
		}
	}
	return User{}, false, errKeyContended
}

// peek reads what holds key now, without waiting: a read-only request answers from what is
// stored (a create in progress is not there yet), so a dead creator's claim never makes it
// wait out the lease. A stale pending claim, or none, reads as gone.
func (k uniqueKeys) peek(ctx context.Context, brand BrandID, key string) (User, holder, error) {
	held, err := k.claims.GetClaim(ctx, brand, key)
	if errors.Is(err, ErrNotFound) {
		return User{}, holderGone, nil
	}
	if err != nil {
		return User{}, 0, err
	}
	u, state, err := k.holderOf(ctx, brand, held.Owner)
	if err == nil && state == holderPending && stale(held, k.clock.Now()) {
		state = holderGone
	}
	return u, state, err
}

// release lets go of keys owner holds, after a create that gave up. A key recovered by another
// writer meanwhile is theirs and stays.
func (k uniqueKeys) release(ctx context.Context, brand BrandID, owner string, keys ...string) {
	claims := make([]Claim, len(keys))
	for i, key := range keys {
		claims[i] = Claim{Key: key, Owner: owner}
	}
	_ = k.claims.ReleaseClaims(ctx, brand, claims...)
}
