package gdpr

import (
	"context"
	"errors"
	"strings"

	"popsell-gdpr/internal/money"
)

// Order is an order the brand's shop reports for a Member's customer (R-CONSENT-3).
type Order struct {
	OrderID  string `json:"orderId"`
	MemberID string `json:"memberId"`
	// Amount is a JSON number (42.5) or string ("42.50"), read exactly from its text and
	// stored in the currency's canonical spelling ("42.50").
	Amount   money.Text `json:"amount"`
	Currency string     `json:"currency"`
	Products []SaleLine `json:"products"`
	Contact  struct {
		Email     string `json:"email"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"contact"`
	// BrandOptIn is the customer's answer to the Brand; not set is read as false
	// (R-CONSENT-3, the guide: "False, or if Brand opt-in parameter is not set").
	BrandOptIn *bool `json:"brandOptIn"`
}

// validate checks the order's shape and rewrites its amount in the canonical spelling;
// messages name fields, never values.
func (o *Order) validate() error {
	if err := o.validateRest(); err != nil {
		return err
	}
	amount, err := money.Parse(string(o.Amount), o.Currency)
	switch {
	case errors.Is(err, money.ErrUnknownCurrency):
		return Errorf(CodeInvalid, "currency must be an active ISO 4217 code in capitals, such as EUR")
	case errors.Is(err, money.ErrTooManyDecimals):
		exp, _ := money.MinorUnits(o.Currency)
		return Errorf(CodeInvalid, "amount has more decimals than its currency has (%d)", exp)
	case errors.Is(err, money.ErrTooManyDigits):
		return Errorf(CodeInvalid, "amount has more than %d digits before the decimal point", money.MaxIntegerDigits)
	case err != nil:
		return Errorf(CodeInvalid, "amount must be a plain decimal, a JSON number or string such as 49.90 or \"49.90\"")
	}
	o.Amount = money.Text(amount.String())
	return nil
}

// validateRest checks everything but the amount.
func (o *Order) validateRest() error {
	o.Contact.Email = NormalizeEmail(o.Contact.Email)
	o.Contact.FirstName, o.Contact.LastName = strings.TrimSpace(o.Contact.FirstName), strings.TrimSpace(o.Contact.LastName)
	switch {
	case !externalID(o.OrderID):
		return Errorf(CodeInvalid, "orderId must be 1 to 128 letters, digits or _.:-")
	case o.MemberID == "" || len(o.MemberID) > 64:
		return Errorf(CodeInvalid, "memberId is required")
	case len(o.Products) > 100:
		return Errorf(CodeInvalid, "at most 100 products per order")
	case !ValidEmail(o.Contact.Email):
		return Errorf(CodeInvalid, "contact.email is not a valid email address")
	case !plainText(o.Contact.FirstName, maxNameLen) || !plainText(o.Contact.LastName, maxNameLen):
		return Errorf(CodeInvalid, "contact names must be at most %d characters without control characters", maxNameLen)
	}
	for i, p := range o.Products {
		if !externalID(p.SKU) || p.Quantity < 1 || p.Quantity > 10000 {
			return Errorf(CodeInvalid, "products[%d] needs a sku (1 to 128 letters, digits or _.:-) and a quantity from 1 to 10000", i)
		}
	}
	return nil
}

// OrderOutcome says what an order did to the contacts.
type OrderOutcome string

const (
	OrderContactCreated OrderOutcome = "contact_created"
	OrderSaleRecorded   OrderOutcome = "sale_recorded"   // the Member's contact existed
	OrderBlacklisted    OrderOutcome = "blacklisted"     // refused: the address is on the brand's blacklist (R-MAIL-4)
	OrderReplayed       OrderOutcome = "already_applied" // this orderId was applied before
)

// OrderResult is an order's outcome and the contact it concerns (none when blacklisted).
type OrderResult struct {
	Outcome   OrderOutcome `json:"outcome"`
	ContactID string       `json:"contactId,omitempty"`
}

// RecordOrder records an order: the Member's contact is created on first sight with the
// opt-ins of R-CONSENT-3 (Member "opt-in from order" and Brand "from brand database" when the
// customer agreed, both "storage only" otherwise), or found, and the sale is added to its
// history. An address globally opted out creates nothing (R-MAIL-4); one blacklisted for a
// complaint, bounce or block is recorded with that email status, so nothing is mailed to it
// (R-MAIL-1, R-MAIL-3). Each orderId applies once. The claims in also (the webhook id that
// carried the order) are written with the order's own once it has applied, in one request
// where the store batches, or when it was applied before.
func (s *ContactService) RecordOrder(ctx context.Context, brandID BrandID, o Order, also ...Claim) (OrderResult, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return OrderResult{}, err
	}
	if err := o.validate(); err != nil {
		return OrderResult{}, err
	}
	if c, err := s.claims.GetClaim(ctx, b.ID, claimOrder+o.OrderID); err == nil {
		return OrderResult{Outcome: OrderReplayed, ContactID: c.Owner}, claimEach(ctx, s.claims, b.ID, also)
	} else if !errors.Is(err, ErrNotFound) {
		return OrderResult{}, err
	}
	member, err := getUser(ctx, s.users, b.ID, o.MemberID)
	if err != nil {
		return OrderResult{}, err
	}
	if member.Kind != SubjectMember || member.Status != UserActive {
		return OrderResult{}, Errorf(CodeConflict, "orders are recorded for active members only")
	}
	status, optedOut, err := s.blacklisted(ctx, b.ID, o.Contact.Email)
	if err != nil {
		return OrderResult{}, err
	}
	res := OrderResult{Outcome: OrderBlacklisted}
	if !optedOut {
		if res, err = s.applyOrder(ctx, b, member, o, status); err != nil {
			return OrderResult{}, err
		}
	}
	now := s.clock.Now()
	order := Claim{BrandID: b.ID, Key: claimOrder + o.OrderID, Owner: res.ContactID, CreatedAt: now}
	if err := claimEach(ctx, s.claims, b.ID, append([]Claim{order}, also...)); err != nil {
		return OrderResult{}, err
	}
	s.log.InfoContext(ctx, "order recorded", "brand", b.ID, "member", member.ID, "contact", res.ContactID, "outcome", string(res.Outcome))
	return res, nil
}

// applyOrder creates or updates the Member's contact for the order's address, once per
// member and address (R-CONSENT-5), guarded by the contact's version.
// status is the email status the blacklist gives the address (EmailOK when not on it).
func (s *ContactService) applyOrder(ctx context.Context, b Brand, member User, o Order, status EmailStatus) (OrderResult, error) {
	now := s.clock.Now()
	sale := Sale{OrderID: o.OrderID, Amount: string(o.Amount), Currency: o.Currency, Products: o.Products, At: now}
	if sale.Products == nil {
		sale.Products = []SaleLine{}
	}
	key := s.contactKey(member.ID, o.Contact.Email)
	var res OrderResult
	err := retry(ctx, func() error {
		// The key is claimed for a new contact first (a conditional create): on an address the
		// member has not had, that is the one look at the claims; on one it has, the claim's
		// 409 names the contact.
		created, err := s.orderContact(b, member, o, sale, status)
		if err != nil {
			return err
		}
		holder, err := s.createOrFindContact(ctx, b, created, key)
		if err != nil {
			return err
		}
		if holder == created.ID {
			res = OrderResult{Outcome: OrderContactCreated, ContactID: created.ID}
			return nil
		}
		c, err := s.contacts.GetContact(ctx, b.ID, holder)
		if errors.Is(err, ErrNotFound) || err == nil && c.Erased() {
			return ErrConflict // erased since the claim named it: claim again
		} else if err != nil {
			return err
		}
		if !containsOrder(c.Sales, o.OrderID) {
			c.Sales = append(c.Sales, sale)
			// A purchase is an intentional interaction: it restarts the three years (R-RET-3).
			c.LastActivityAt = latest(c.LastActivityAt, now)
			if len(c.Sales) > MaxSales {
				c.Sales = c.Sales[len(c.Sales)-MaxSales:]
			}
			if status != EmailOK && !permanent(c.EmailStatus) {
				c.EmailStatus = status // blacklisted since it was created (R-MAIL-1)
			}
			if _, err := s.updateContact(ctx, b, c); err != nil {
				return err
			}
		}
		res = OrderResult{Outcome: OrderSaleRecorded, ContactID: c.ID}
		return nil
	})
	return res, err
}

func containsOrder(sales []Sale, id string) bool {
	for _, s := range sales {
		if s.OrderID == id {
			return true
		}
	}
	return false
}

// orderContact is the contact an order creates, with R-CONSENT-3's opt-ins.
func (s *ContactService) orderContact(b Brand, member User, o Order, sale Sale, status EmailStatus) (Contact, error) {
	now := s.clock.Now()
	c := Contact{BrandID: b.ID, ID: NewID("c_", now), MemberID: member.ID, Email: o.Contact.Email, EmailStatus: status,
		FirstName: o.Contact.FirstName, LastName: o.Contact.LastName, Source: SourceOrder, CreatedAt: now,
		Sales: []Sale{sale}}
	memberOptIn, brandOptIn := MemberStorageOnly, BrandOptInStorageOnly
	if o.BrandOptIn != nil && *o.BrandOptIn {
		memberOptIn, brandOptIn = MemberOptInFromOrder, BrandOptInDatabase
	}
	src := ConsentSource{Kind: SourceKindOrder, Ref: o.OrderID}
	if err := c.ChangeMemberOptIn(memberOptIn, src, now); err != nil {
		return Contact{}, err
	}
	if err := c.ChangeBrandOptIn(brandOptIn, src, now); err != nil {
		return Contact{}, err
	}
	return c, nil
}
