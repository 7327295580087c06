package gdpr

import (
	"context"
	"errors"
)

// Reading provisioned users for SCIM queries (RFC 7644 §3.4.2): by one of the keys identity
// providers look users up with, through an index, or page by page within a budget of
// documents read (issue #24, finding 5).

// ProvisionedKey is an attribute that finds provisioned users through an index, whatever the
// brand's size.
type ProvisionedKey uint8

const (
	// KeyMemberID is the member's id (SCIM id): a point read.
	KeyMemberID ProvisionedKey = iota + 1
	// KeyExternalID is the brand's external id (SCIM userName): its claim, then the user.
	KeyExternalID
	// KeyIdPExternalID is the identity provider's own id (SCIM externalId), caseExact: the
	// store's index of it (UserStore.UsersByIdPExternalID).
	KeyIdPExternalID
	// KeyEmail is the address (SCIM emails.value), compared as NormalizeEmail does: its claim,
	// then the user.
	KeyEmail
)

// FindProvisioned returns the live provisioned users (not erased, not signed up by the form)
// that hold value under key, in id order, at most limit of them. It reads O(1) documents for
// a member id, a userName or an address, and O(matches) for an IdP id — never the brand.
// userName is looked up as given: SCIM keeps it in lower case, and the caller folds it.
func (s *ProvisioningService) FindProvisioned(ctx context.Context, brandID BrandID, key ProvisionedKey, value string, limit int) ([]User, error) {
	if limit <= 0 {
		return nil, nil
	}
	switch key {
	case KeyExternalID:
		// Lookup also lets go of a claim left by a crashed call, as Upsert would.
		u, err := s.Lookup(ctx, brandID, value)
		return oneProvisioned(u, err)
	case KeyMemberID:
		u, err := s.Get(ctx, brandID, value)
		return oneProvisioned(u, err)
	}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return nil, err
	}
	switch key {
	case KeyEmail:
		addr := NormalizeEmail(value)
		if addr == "" {
			return nil, nil
		}
		claim, err := claimOf(ctx, s.claims, b.ID, keyed(ClaimEmail, s.hasher.EmailDigests(addr)))
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		u, err := s.users.GetUser(ctx, b.ID, claim.Owner)
		if err == nil && NormalizeEmail(u.address()) != addr {
			return nil, nil // a claim not yet released after a change of address
		}
		return oneProvisioned(u, err)
	case KeyIdPExternalID:
		users, err := s.users.UsersByIdPExternalID(ctx, b.ID, value, limit)
		if err != nil {
			return nil, err
		}
		kept := users[:0]
		for _, u := range users {
			if provisioned(u) {
				kept = append(kept, u)
			}
		}
		return kept, nil
	}
	return nil, Errorf(CodeInvalid, "unknown lookup key")
}

// oneProvisioned turns a single read into FindProvisioned's answer: not found is no match.
func oneProvisioned(u User, err error) ([]User, error) {
	switch {
	case errors.Is(err, ErrNotFound) || ErrorCode(err) == CodeNotFound:
		return nil, nil
	case err != nil:
		return nil, err
	case !provisioned(u):
		return nil, nil
	}
	return []User{u}, nil
}

// provisioned reports a user that SCIM and the webhooks manage: provisioned under an external
// id, and not erased.
func provisioned(u User) bool { return u.ExternalID != "" && u.Status != UserErased }

// ScanPage is one page of a scan of the brand's users.
type ScanPage struct {
	Users []User // the provisioned users among those read, in id order
	Read  int    // the documents read, provisioned or not: what a scan budget counts
	Next  string // the id to continue after; "" when the brand has no more users
}

// ScanProvisioned reads the next limit users of the brand after the id given ("" for the
// first), in id order, and keeps the provisioned ones. Unlike List, it tells how many
// documents it read, so that a caller can bound a scan by the documents read.
func (s *ProvisioningService) ScanProvisioned(ctx context.Context, brandID BrandID, after string, limit int) (ScanPage, error) {
	if limit <= 0 {
		return ScanPage{Next: after}, nil
	}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return ScanPage{}, err
	}
	users, err := s.users.ListUsers(ctx, b.ID, after, limit)
	if err != nil {
		return ScanPage{}, err
	}
	page := ScanPage{Read: len(users)}
	if len(users) == limit {
		page.Next = users[len(users)-1].ID
	}
	for _, u := range users {
		if provisioned(u) {
			page.Users = append(page.Users, u)
		}
	}
	return page, nil
}
