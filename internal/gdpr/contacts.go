package gdpr

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
)

// ContactDocuments reads and writes single contacts: what creating contacts from orders, and
// reading them, needs beside the erasure's ContactStore.
type ContactDocuments interface {
	CreateContact(ctx context.Context, c Contact) (Contact, error)
	GetContact(ctx context.Context, brand BrandID, id string) (Contact, error)
	UpdateContact(ctx context.Context, c Contact) (Contact, error)
	// ListContacts pages through a brand's contacts in id order, after the id given.
	ListContacts(ctx context.Context, brand BrandID, after string, limit int) ([]Contact, error)
}

// ContactDeps are the ports of the ContactService.
type ContactDeps struct {
	Contacts  ContactDocuments
	Owners    ContactStore // a member's contacts
	Users     UserStore    // the member a contact belongs to
	Claims    ClaimStore   // one contact per member and address; each order once
	Blacklist Blacklist    // global opt-outs, hard bounces, complaints (R-MAIL-4)
}

// ContactService creates contacts from the brand's systems and reads them under the access
// rules (R-CONSENT-3, R-CONSENT-5, R-MAIL-4, R-ACCESS-1, R-ACCESS-2). Consent changes go
// through the state machines of consent.go, so every one is dated and proven.
type ContactService struct {
	core
	contacts  ContactDocuments
	owners    ContactStore
	users     UserStore
	claims    ClaimStore
	blacklist Blacklist
}

// NewContactService checks its dependencies.
func NewContactService(c Core, d ContactDeps) (*ContactService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("ContactService", map[string]bool{"Contacts": d.Contacts != nil, "Owners": d.Owners != nil,
			"Users": d.Users != nil, "Claims": d.Claims != nil, "Blacklist": d.Blacklist != nil})
	}
	if err != nil {
		return nil, err
	}
	return &ContactService{core: cc, contacts: d.Contacts, owners: d.Owners, users: d.Users, claims: d.Claims, blacklist: d.Blacklist}, nil
}

// Order is an order the brand's shop reports for a Member's customer (R-CONSENT-3).
type Order struct {
	OrderID  string     `json:"orderId"`
	MemberID string     `json:"memberId"`
	Amount   string     `json:"amount"`
	Currency string     `json:"currency"`
	Products []SaleLine `json:"products"`
	Contact  struct {
		Email     string `json:"email"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"contact"`
	BrandOptIn *bool `json:"brandOptIn"`
}

var (
	orderIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
	amountPattern   = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{1,4})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// validate checks the order's shape; messages name fields, never values.
func (o *Order) validate() error {
	o.Contact.Email = NormalizeEmail(o.Contact.Email)
	o.Contact.FirstName, o.Contact.LastName = strings.TrimSpace(o.Contact.FirstName), strings.TrimSpace(o.Contact.LastName)
	switch {
	case !orderIDPattern.MatchString(o.OrderID):
		return Errorf(CodeInvalid, "orderId must be 1 to 128 letters, digits or _.:-")
	case o.MemberID == "" || len(o.MemberID) > 64:
		return Errorf(CodeInvalid, "memberId is required")
	case !amountPattern.MatchString(o.Amount):
		return Errorf(CodeInvalid, "amount must be a decimal string such as \"49.90\"")
	case !currencyPattern.MatchString(o.Currency):
		return Errorf(CodeInvalid, "currency must be an ISO 4217 code such as EUR")
	case len(o.Products) > 100:
		return Errorf(CodeInvalid, "at most 100 products per order")
	case !ValidEmail(o.Contact.Email):
		return Errorf(CodeInvalid, "contact.email is not a valid email address")
	case !plainText(o.Contact.FirstName, maxNameLen) || !plainText(o.Contact.LastName, maxNameLen):
		return Errorf(CodeInvalid, "contact names must be at most %d characters without control characters", maxNameLen)
	case o.BrandOptIn == nil:
		return Errorf(CodeInvalid, "brandOptIn is required: true or false")
	}
	for i, p := range o.Products {
		if !orderIDPattern.MatchString(p.SKU) || p.Quantity < 1 || p.Quantity > 10000 {
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

// Claim key kinds of contacts.
const (
	claimOrder   = "order:"   // + order id → the contact it created or updated
	claimContact = "contact:" // + member id + ":" + email digest → the member's contact
)

// RecordOrder records an order: the Member's contact is created on first sight with the
// opt-ins of R-CONSENT-3 (Member "opt-in from order" and Brand "from brand database" when the
// customer agreed, both "storage only" otherwise), or found, and the sale is added to its
// history. An address on the brand's blacklist creates nothing (R-MAIL-4). Each orderId
// applies once.
func (s *ContactService) RecordOrder(ctx context.Context, brandID BrandID, o Order) (OrderResult, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return OrderResult{}, err
	}
	if err := o.validate(); err != nil {
		return OrderResult{}, err
	}
	if c, err := s.claims.GetClaim(ctx, b.ID, claimOrder+o.OrderID); err == nil {
		return OrderResult{Outcome: OrderReplayed, ContactID: c.Owner}, nil
	} else if !errors.Is(err, ErrNotFound) {
		return OrderResult{}, err
	}
	member, err := getUser(ctx, s.users, b.ID, o.MemberID)
	if err != nil {
		return OrderResult{}, err
	}
	if member.Kind != SubjectMember || !member.CanSignIn() {
		return OrderResult{}, Errorf(CodeConflict, "orders are recorded for active members only")
	}
	digest := s.hasher.EmailDigest(o.Contact.Email)
	res := OrderResult{Outcome: OrderBlacklisted}
	switch _, err := s.blacklist.GetBlacklist(ctx, b.ID, digest); {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		res, err = s.applyOrder(ctx, b, member, o, digest)
		if err != nil {
			return OrderResult{}, err
		}
	default:
		return OrderResult{}, err
	}
	now := s.clock.Now()
	if _, err := s.claims.Claim(ctx, Claim{BrandID: b.ID, Key: claimOrder + o.OrderID, Owner: res.ContactID, CreatedAt: now}); err != nil && !errors.Is(err, ErrConflict) {
		return OrderResult{}, err
	}
	s.log.InfoContext(ctx, "order recorded", "brand", b.ID, "member", member.ID, "contact", res.ContactID, "outcome", string(res.Outcome))
	return res, nil
}

// applyOrder creates or updates the Member's contact for the order's address, once per
// member and address (R-CONSENT-5), guarded by the contact's version.
func (s *ContactService) applyOrder(ctx context.Context, b Brand, member User, o Order, digest string) (OrderResult, error) {
	now := s.clock.Now()
	sale := Sale{OrderID: o.OrderID, Amount: o.Amount, Currency: o.Currency, Products: o.Products, At: now}
	if sale.Products == nil {
		sale.Products = []SaleLine{}
	}
	key := claimContact + member.ID + ":" + digest
	var res OrderResult
	err := retry(ctx, func() error {
		held, err := s.claims.GetClaim(ctx, b.ID, key)
		if errors.Is(err, ErrNotFound) {
			res, err = s.createFromOrder(ctx, b, member, o, key, sale)
			return err
		}
		if err != nil {
			return err
		}
		c, err := s.contacts.GetContact(ctx, b.ID, held.Owner)
		if err != nil {
			return err
		}
		if !containsOrder(c.Sales, o.OrderID) {
			c.Sales = append(c.Sales, sale)
			if len(c.Sales) > MaxSales {
				c.Sales = c.Sales[len(c.Sales)-MaxSales:]
			}
			if _, err := s.contacts.UpdateContact(ctx, c); err != nil {
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

// createFromOrder makes the contact with R-CONSENT-3's opt-ins, claiming its member and
// address first: a concurrent order for the same address finds it and sends the caller round
// again.
func (s *ContactService) createFromOrder(ctx context.Context, b Brand, member User, o Order, key string, sale Sale) (OrderResult, error) {
	now := s.clock.Now()
	c := Contact{BrandID: b.ID, ID: NewID("c_", now), MemberID: member.ID, Email: o.Contact.Email,
		FirstName: o.Contact.FirstName, LastName: o.Contact.LastName, Source: SourceOrder, CreatedAt: now,
		Sales: []Sale{sale}}
	memberOptIn, brandOptIn := MemberStorageOnly, BrandOptInStorageOnly
	if *o.BrandOptIn {
		memberOptIn, brandOptIn = MemberOptInFromOrder, BrandOptInDatabase
	}
	src := ConsentSource{Kind: SourceKindOrder, Ref: o.OrderID}
	if err := c.ChangeMemberOptIn(memberOptIn, src, now); err != nil {
		return OrderResult{}, err
	}
	if err := c.ChangeBrandOptIn(brandOptIn, src, now); err != nil {
		return OrderResult{}, err
	}
	if _, err := s.claims.Claim(ctx, Claim{BrandID: b.ID, Key: key, Owner: c.ID, CreatedAt: now}); err != nil {
		return OrderResult{}, err // ErrConflict: created meanwhile, the caller retries
	}
	if _, err := s.contacts.CreateContact(ctx, c); err != nil {
		_ = s.claims.ReleaseClaims(ctx, b.ID, Claim{Key: key, Owner: c.ID})
		return OrderResult{}, err
	}
	return OrderResult{Outcome: OrderContactCreated, ContactID: c.ID}, nil
}

// ContactView is a contact as a Member or the Brand may read it.
type ContactView struct {
	ID          string          `json:"id"`
	MemberID    string          `json:"memberId"`
	Email       string          `json:"email,omitempty"`
	EmailHidden bool            `json:"emailHidden,omitempty"`
	FirstName   string          `json:"firstName,omitempty"`
	LastName    string          `json:"lastName,omitempty"`
	MemberOptIn MemberOptIn     `json:"memberOptIn"`
	BrandOptIn  BrandOptIn      `json:"brandOptIn"`
	EmailStatus EmailStatus     `json:"emailStatus,omitempty"`
	Sales       []Sale          `json:"sales,omitempty"`
	History     []ConsentChange `json:"consentHistory,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
}

func viewContact(c Contact) ContactView {
	return ContactView{ID: c.ID, MemberID: c.MemberID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
		MemberOptIn: c.MemberOptIn.Value, BrandOptIn: c.BrandOptIn.Value, EmailStatus: c.EmailStatus,
		Sales: c.Sales, History: c.History, CreatedAt: c.CreatedAt}
}

// MemberContacts lists a Member's own contacts (R-ACCESS-2); an opted-out contact's address
// is hidden from the Member (R-RET-7), erased contacts are left out.
func (s *ContactService) MemberContacts(ctx context.Context, brandID BrandID, memberID string) ([]ContactView, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return nil, err
	}
	if _, err := getUser(ctx, s.users, b.ID, memberID); err != nil {
		return nil, err
	}
	contacts, err := s.owners.ContactsOfMembers(ctx, b.ID, []string{memberID})
	if err != nil {
		return nil, err
	}
	out := []ContactView{}
	for _, c := range contacts {
		if c.Erased() {
			continue
		}
		v := viewContact(c)
		if c.MemberOptIn.Value.EmailHiddenFromMember() {
			v.Email, v.EmailHidden = "", true
		}
		out = append(out, v)
	}
	return out, nil
}

// BrandContacts pages through the contacts the Brand may read: those with a Brand opt-in,
// every value but "none" ("storage only" included, R-ACCESS-1). The page is of the brand's
// contacts in id order; next is where the following page starts ("" at the end).
func (s *ContactService) BrandContacts(ctx context.Context, brandID BrandID, after string, limit int) (views []ContactView, next string, err error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	contacts, err := s.contacts.ListContacts(ctx, b.ID, after, limit)
	if err != nil {
		return nil, "", err
	}
	views = []ContactView{}
	for _, c := range contacts {
		if !c.Erased() && c.BrandOptIn.Value.VisibleToBrand() {
			views = append(views, viewContact(c))
		}
	}
	if len(contacts) == limit {
		next = contacts[len(contacts)-1].ID
	}
	return views, next, nil
}
