package gdpr

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"popsell-gdpr/internal/money"
)

// ContactDeps are the ports of the ContactService.
type ContactDeps struct {
	Contacts  ContactDocuments
	Owners    ContactStore    // a member's contacts
	Users     UserStore       // the member a contact belongs to
	Claims    ClaimStore      // one contact per member and address; each order once
	Blacklist Blacklist       // global opt-outs, hard bounces, complaints (R-MAIL-4)
	Audit     ErasureAudit    // the record of a contact the brand's system deleted (R-ERASE-9)
	Queue     Queue           // invitation mails
	Tokens    TokenStore      // invitation answers
	OptOuts   BlacklistWriter // a global opt-out from an invitation (R-MAIL-4)
	// SentMail is where copies of sent mail are kept, if anywhere: a contact the brand deletes
	// takes its invitations with it.
	SentMail SentMail
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
	queue     Queue
	tokens    TokenStore
	optOuts   BlacklistWriter
	eraser    contactEraser // a contact the brand's system deletes (R-RET-9)
}

// NewContactService checks its dependencies.
func NewContactService(c Core, d ContactDeps) (*ContactService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("ContactService", map[string]bool{"Contacts": d.Contacts != nil, "Owners": d.Owners != nil,
			"Users": d.Users != nil, "Claims": d.Claims != nil, "Blacklist": d.Blacklist != nil, "Audit": d.Audit != nil,
			"Queue": d.Queue != nil, "Tokens": d.Tokens != nil, "OptOuts": d.OptOuts != nil})
	}
	if err != nil {
		return nil, err
	}
	return &ContactService{core: cc, contacts: d.Contacts, owners: d.Owners, users: d.Users, claims: d.Claims,
		blacklist: d.Blacklist, queue: d.Queue, tokens: d.Tokens, optOuts: d.OptOuts,
		eraser: newContactEraser(cc, d.Contacts, d.Claims, d.SentMail, erasureRecords{audit: d.Audit, log: cc.log})}, nil
}

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

var (
	orderIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
)

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
	case !orderIDPattern.MatchString(o.OrderID):
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
	ContactExists       OrderOutcome = "exists"          // the Member already has this contact
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
// history. An address globally opted out creates nothing (R-MAIL-4); one blacklisted for a
// complaint, bounce or block is recorded with that email status, so nothing is mailed to it
// (R-MAIL-1, R-MAIL-3). Each orderId applies once.
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
	if member.Kind != SubjectMember || member.Status != UserActive {
		return OrderResult{}, Errorf(CodeConflict, "orders are recorded for active members only")
	}
	digest := s.hasher.EmailDigest(o.Contact.Email)
	status, optedOut, err := s.blacklisted(ctx, b.ID, digest)
	if err != nil {
		return OrderResult{}, err
	}
	res := OrderResult{Outcome: OrderBlacklisted}
	if !optedOut {
		if res, err = s.applyOrder(ctx, b, member, o, digest, status); err != nil {
			return OrderResult{}, err
		}
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
// status is the email status the blacklist gives the address (EmailOK when not on it).
func (s *ContactService) applyOrder(ctx context.Context, b Brand, member User, o Order, digest string, status EmailStatus) (OrderResult, error) {
	now := s.clock.Now()
	sale := Sale{OrderID: o.OrderID, Amount: string(o.Amount), Currency: o.Currency, Products: o.Products, At: now}
	if sale.Products == nil {
		sale.Products = []SaleLine{}
	}
	key := claimContact + member.ID + ":" + digest
	var res OrderResult
	err := retry(ctx, func() error {
		c, found, err := s.contactKeys(s.contacts, s.claims).find(ctx, b.ID, key)
		if err != nil {
			return err
		}
		if !found {
			res, err = s.createFromOrder(ctx, b, member, o, key, sale, status)
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

// createFromOrder makes the contact with R-CONSENT-3's opt-ins, claiming its member and
// address first: a concurrent order for the same address finds it and sends the caller round
// again.
func (s *ContactService) createFromOrder(ctx context.Context, b Brand, member User, o Order, key string, sale Sale, status EmailStatus) (OrderResult, error) {
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
		return OrderResult{}, err
	}
	if err := c.ChangeBrandOptIn(brandOptIn, src, now); err != nil {
		return OrderResult{}, err
	}
	if err := s.createClaimedContact(ctx, b, c, key); err != nil {
		return OrderResult{}, err // ErrConflict: created meanwhile, the caller goes round again
	}
	return OrderResult{Outcome: OrderContactCreated, ContactID: c.ID}, nil
}

// createClaimedContact creates c once it holds the member's claim on the address, by the
// unique-key protocol (uniquekeys.go): a create in progress is waited for, one whose process
// died is recovered after ClaimLease. ErrConflict means another contact holds the key now, or
// c's create was fenced: the caller reads again.
func (s *ContactService) createClaimedContact(ctx context.Context, b Brand, c Contact, key string) error {
	keys := s.contactKeys(s.contacts, s.claims)
	holder, err := keys.reserve(ctx, b.ID, key, c.ID)
	if err != nil {
		return err
	}
	if holder != c.ID {
		return ErrConflict
	}
	_, err = s.createContact(ctx, b, c)
	if err != nil && !errors.Is(err, ErrConflict) {
		keys.release(ctx, b.ID, c.ID, key)
	}
	return err
}

// blacklisted tells what the brand's blacklist says of an address a contact is created for
// (R-MAIL-4): a global opt-out refuses the creation (optedOut); a complaint, a hard bounce or
// a block lets the contact be created with that email status, after which nothing is mailed
// to it (R-MAIL-1, R-MAIL-3). A reason this code does not know refuses: fail closed.
func (s *ContactService) blacklisted(ctx context.Context, brand BrandID, digest string) (status EmailStatus, optedOut bool, err error) {
	e, err := s.blacklist.GetBlacklist(ctx, brand, digest)
	if errors.Is(err, ErrNotFound) {
		return EmailOK, false, nil
	}
	if err != nil {
		return EmailOK, false, err
	}
	switch e.Reason {
	case BlacklistSpam:
		return EmailSpam, false, nil
	case BlacklistHardBounce:
		return EmailHardBounce, false, nil
	case BlacklistBlocked:
		return EmailBlocked, false, nil
	}
	return EmailOK, true, nil
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
	Sales       []SaleView      `json:"sales,omitempty"`
	History     []ConsentChange `json:"consentHistory,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
}

// SaleView is a sale as its reader may see it (R-CONSENT-8): the Member's CRM gets the date
// and the amount only; the Brand's Manager gets the order's details and products too.
type SaleView struct {
	OrderID  string     `json:"orderId,omitempty"`
	Amount   string     `json:"amount"`
	Currency string     `json:"currency,omitempty"`
	Products []SaleLine `json:"products,omitempty"`
	At       time.Time  `json:"at"`
}

// viewContact is a contact as the Brand's Manager reads it, every sale's products included.
func viewContact(c Contact) ContactView {
	v := ContactView{ID: c.ID, MemberID: c.MemberID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
		MemberOptIn: c.MemberOptIn.Value, BrandOptIn: c.BrandOptIn.Value, EmailStatus: c.EmailStatus,
		History: c.History, CreatedAt: c.CreatedAt}
	for _, s := range c.Sales {
		v.Sales = append(v.Sales, SaleView{OrderID: s.OrderID, Amount: s.Amount, Currency: s.Currency, Products: s.Products, At: s.At})
	}
	return v
}

// memberView is a contact as its Member's CRM reads it: a sale is its date and amount, "no
// other detail" (R-CONSENT-8); the products are the Manager's only.
func memberView(c Contact) ContactView {
	v := viewContact(c)
	for i, s := range v.Sales {
		v.Sales[i] = SaleView{Amount: s.Amount, At: s.At}
	}
	return v
}

// MemberContacts lists a Member's own contacts (R-ACCESS-2); an opted-out contact's address
// is hidden from the Member (R-RET-7); erased contacts and those pending email verification
// (R-RET-6) are left out; a sale shows its date and amount only (R-CONSENT-8).
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
		if c.Erased() || c.MemberOptIn.Value.HiddenFromMember() {
			continue
		}
		v := memberView(c)
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

// SyncContact is one contact of a brand synchronisation (R-CONSENT-4): the brand's own
// database says who its members' contacts are and whether they opted in.
type SyncContact struct {
	MemberID  string `json:"memberId"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	// OptIn is the opt-in the brand's system imported: true gives both opt-ins (Member
	// "opt-in from brand", Brand "from brand database"); false or absent imports none
	// (Member "new", Brand "storage only").
	OptIn bool `json:"optIn"`
	// Delete: the brand deleted the contact; a synchronised contact is then erased
	// (R-RET-9).
	Delete bool `json:"delete"`
}

// SyncBatch is one request of a brand synchronisation.
type SyncBatch struct {
	BatchID  string        `json:"batchId"`
	Contacts []SyncContact `json:"contacts"`
}

// MaxSyncBatch bounds one synchronisation request.
const MaxSyncBatch = 1000

// SyncResult counts what a batch did.
type SyncResult struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"` // an existing contact took the batch's statuses or names
	Unchanged   int `json:"unchanged"`
	Deleted     int `json:"deleted"`
	Blacklisted int `json:"blacklisted"` // refused: globally opted out, on the brand's blacklist (R-MAIL-4)
	Refused     int `json:"refused"`     // members not under contract, on a brand not in direct selling
}

// Sync applies a batch of the brand's contact synchronisation (R-CONSENT-4): only for
// direct-selling brands, or for members under contract with the brand (R-ROLE); a contact is stored once per
// member and address (R-CONSENT-5); a globally opted-out address is refused and counted, a
// bounced one created with its email status (R-MAIL-4);
// a delete erases a synchronised contact (R-RET-9). The batch id is the consents' proof.
func (s *ContactService) Sync(ctx context.Context, brandID BrandID, batch SyncBatch) (SyncResult, error) {
	var res SyncResult
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return res, err
	}
	switch {
	case !orderIDPattern.MatchString(batch.BatchID):
		return res, Errorf(CodeInvalid, "batchId must be 1 to 128 letters, digits or _.:-")
	case len(batch.Contacts) == 0 || len(batch.Contacts) > MaxSyncBatch:
		return res, Errorf(CodeInvalid, "contacts must hold 1 to %d contacts", MaxSyncBatch)
	}
	for i := range batch.Contacts {
		sc := &batch.Contacts[i]
		sc.Email, sc.FirstName, sc.LastName = NormalizeEmail(sc.Email), strings.TrimSpace(sc.FirstName), strings.TrimSpace(sc.LastName)
		if sc.MemberID == "" || len(sc.MemberID) > 64 || !ValidEmail(sc.Email) ||
			!plainText(sc.FirstName, maxNameLen) || !plainText(sc.LastName, maxNameLen) {
			return res, Errorf(CodeInvalid, "contacts[%d] needs a memberId, a valid email and names of at most %d characters", i, maxNameLen)
		}
	}
	// Every member is found before any entry applies: a batch naming an unknown one changes
	// nothing, so the brand can fix it and send it whole again.
	members := map[string]User{}
	for i, sc := range batch.Contacts {
		if _, ok := members[sc.MemberID]; ok {
			continue
		}
		m, err := getUser(ctx, s.users, b.ID, sc.MemberID)
		if ErrorCode(err) == CodeNotFound {
			return res, Errorf(CodeNotFound, "contacts[%d].memberId names no member of this brand; nothing was applied", i)
		}
		if err != nil {
			return res, err
		}
		members[sc.MemberID] = m
	}
	for _, sc := range batch.Contacts {
		m := members[sc.MemberID]
		// Outside direct selling, members under contract with the Brand only (R-ROLE): the
		// guide's "employees (professionals employed by the Brand or sub-contractors)".
		if b.Pro != ProDirectSelling && !m.Role.UnderContract(b.Pro) {
			res.Refused++
			continue
		}
		if err := s.syncOne(ctx, b, m, sc, batch.BatchID, &res); err != nil {
			return res, err
		}
	}
	if res.Refused == len(batch.Contacts) {
		return res, Errorf(CodeForbidden, "contact synchronisation is for direct-selling brands and members under contract with the brand only (R-CONSENT-4)")
	}
	// The batch id is the brand's free text: the log has its keyed digest, which ties the
	// lines of one batch together without saying what the brand wrote (R-OPS-1).
	s.log.InfoContext(ctx, "contacts synchronised", "brand", b.ID, "batch", s.hasher.Digest("sync-batch|"+batch.BatchID), "created", res.Created,
		"updated", res.Updated, "deleted", res.Deleted, "blacklisted", res.Blacklisted, "refused", res.Refused)
	return res, nil
}

func (s *ContactService) syncOne(ctx context.Context, b Brand, m User, sc SyncContact, batchID string, res *SyncResult) error {
	digest := s.hasher.EmailDigest(sc.Email)
	key := claimContact + m.ID + ":" + digest
	keys := s.contactKeys(s.contacts, s.claims)
	if sc.Delete {
		return s.syncDelete(ctx, b, keys, key, res)
	}
	existing, found, err := keys.find(ctx, b.ID, key)
	switch {
	case err != nil:
		return err
	case found:
		return s.updateSynced(ctx, b, Claim{Key: key, Owner: existing.ID}, sc, batchID, res)
	}
	status, optedOut, err := s.blacklisted(ctx, b.ID, digest)
	if err != nil {
		return err
	}
	if optedOut {
		res.Blacklisted++
		return nil
	}
	now := s.clock.Now()
	c := Contact{BrandID: b.ID, ID: NewID("c_", now), MemberID: m.ID, Email: sc.Email, EmailStatus: status, FirstName: sc.FirstName,
		LastName: sc.LastName, Source: SourceBrandSync, CreatedAt: now}
	memberOptIn, brandOptIn := MemberOptInNew, BrandOptInStorageOnly
	if sc.OptIn {
		memberOptIn, brandOptIn = MemberOptInFromBrand, BrandOptInDatabase
	}
	src := ConsentSource{Kind: SourceKindSync, Ref: batchID}
	if err := c.ChangeMemberOptIn(memberOptIn, src, now); err != nil {
		return err
	}
	if err := c.ChangeBrandOptIn(brandOptIn, src, now); err != nil {
		return err
	}
	if err := s.createClaimedContact(ctx, b, c, key); errors.Is(err, ErrConflict) {
		res.Unchanged++ // created meanwhile by an order or another batch
		return nil
	} else if err != nil {
		return err
	}
	res.Created++
	return nil
}

// syncDelete erases the member's synchronised contact of the address (R-RET-9), waiting for a
// create in progress. A claim whose contact was erased by an attempt that stopped before
// releasing it is finished; one whose create died names nothing stored: unchanged.
func (s *ContactService) syncDelete(ctx context.Context, b Brand, keys uniqueKeys[Contact], key string, res *SyncResult) error {
	existing, found, err := keys.find(ctx, b.ID, key)
	if err != nil {
		return err
	}
	if found {
		return s.eraseSynced(ctx, b, Claim{Key: key, Owner: existing.ID}, res)
	}
	held, err := s.claims.GetClaim(ctx, b.ID, key)
	if errors.Is(err, ErrNotFound) {
		res.Unchanged++
		return nil
	}
	if err != nil {
		return err
	}
	if _, state, err := keys.holders.holder(ctx, b.ID, held.Owner); err != nil {
		return err
	} else if state == holderGone {
		return s.eraseSynced(ctx, b, held, res)
	}
	res.Unchanged++
	return nil
}

// updateSynced applies a later batch to a contact the synchronisation created (R-CONSENT-4:
// the brand's system "regularly updates" it): the newer imported status and names, each
// consent change dated now and proven by the batch. Only what the sync may change: the
// statuses the sync itself assigns (applySync) and names the batch gives; a contact created
// another way (an order, a Member, a pop-in) is the Member's and is left as it is. The write
// is guarded by the version read; the same batch again finds nothing to change.
func (s *ContactService) updateSynced(ctx context.Context, b Brand, claim Claim, sc SyncContact, batchID string, res *SyncResult) error {
	updated := false
	err := retry(ctx, func() error {
		updated = false
		c, err := s.contacts.GetContact(ctx, b.ID, claim.Owner)
		if errors.Is(err, ErrNotFound) {
			return nil // claimed by a create still in progress: that create carries its own values
		}
		if err != nil {
			return err
		}
		if c.Source != SourceBrandSync || c.Erased() {
			return nil
		}
		changed, err := c.applySync(sc, ConsentSource{Kind: SourceKindSync, Ref: batchID}, s.clock.Now())
		if err != nil || !changed {
			return err
		}
		if _, err := s.updateContact(ctx, b, c); err != nil {
			return err
		}
		updated = true
		return nil
	})
	if err != nil {
		return err
	}
	if updated {
		res.Updated++
	} else {
		res.Unchanged++
	}
	return nil
}

// applySync sets what a sync entry says on a synchronised contact (R-CONSENT-4). An imported
// opt-in gives Member "opt-in from brand" and Brand "from brand database"; none imported gives
// Member "new", and withdraws a Brand "from brand database" back to "none" (the contact is
// then hidden from the Brand, R-ACCESS-1) while a "storage only" stays. A change the consent
// machines do not allow a sync (a contact's own answer or refusal: an accepted invitation, an
// opt-out, a global opt-out) is left as it is. Names are set when the entry gives them.
func (c *Contact) applySync(sc SyncContact, src ConsentSource, at time.Time) (changed bool, err error) {
	member, brand := MemberOptInNew, c.BrandOptIn.Value
	if sc.OptIn {
		member, brand = MemberOptInFromBrand, BrandOptInDatabase
	} else if brand == BrandOptInDatabase {
		brand = BrandOptInNone
	}
	if from := c.MemberOptIn.Value; from != member && MemberTransitionAllowed(from, member, src.Kind) {
		if err := c.ChangeMemberOptIn(member, src, at); err != nil {
			return false, err
		}
		changed = true
	}
	if from := c.BrandOptIn.Value; from != brand && BrandTransitionAllowed(from, brand, src.Kind) {
		if err := c.ChangeBrandOptIn(brand, src, at); err != nil {
			return false, err
		}
		changed = true
	}
	if sc.FirstName != "" && sc.FirstName != c.FirstName {
		c.FirstName, changed = sc.FirstName, true
	}
	if sc.LastName != "" && sc.LastName != c.LastName {
		c.LastName, changed = sc.LastName, true
	}
	return changed, nil
}

// RuleSyncDelete is the rule of a contact erased because the brand's system deleted it.
const RuleSyncDelete = "R-RET-9"

// ReasonBrandDeleted is the reason recorded for it.
const ReasonBrandDeleted BlockReason = "brand_deleted"

// eraseSynced erases a contact the brand's system deleted (R-RET-9), if it came from that
// system: its fields by R-ERASE-3 (its consent record stays), one audit record (R-ERASE-9),
// and the member's claim on the address released so the address may come back as new. A
// batch retried after a crash finishes the erasure and keeps the one record (erase.go).
func (s *ContactService) eraseSynced(ctx context.Context, b Brand, claim Claim, res *SyncResult) error {
	out, err := s.eraser.erase(ctx, b.ID, claim.Owner, func(c Contact, now time.Time) (ErasureState, bool) {
		if c.Source != SourceBrandSync {
			return ErasureState{}, false
		}
		return newErasure(b.ID, c.ID, RuleSyncDelete, ReasonBrandDeleted, now, now), true
	})
	if err != nil {
		return err
	}
	if out.erasedNow {
		res.Deleted++
	} else {
		res.Unchanged++
	}
	return nil
}

// ManualContact is a contact a Member enters in the CRM, relayed by the platform.
type ManualContact struct {
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

// CreateManual records a contact a Member entered (R-RET-4), on a brand that reactivated
// manual entry (contacts.manualEntry; off by default, deprecated since guide 4.0, else
// CodeForbidden): Member opt-in "new", blocked
// until invited, and no Brand opt-in ("none": hidden from the Brand, R-ACCESS-1). A globally
// opted-out address is refused (R-MAIL-4: a global opt-out is final), a bounced one gets its
// email status (R-MAIL-3), and a contact the Member already has is answered with its id.
func (s *ContactService) CreateManual(ctx context.Context, brandID BrandID, memberID string, in ManualContact) (OrderResult, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return OrderResult{}, err
	}
	if !b.Contacts.ManualEntry {
		return OrderResult{}, Errorf(CodeForbidden, "manual entry of contacts is disabled for this brand (deprecated since guide 4.0, R-RET-4); the brand setting contacts.manualEntry reactivates it")
	}
	in.Email, in.FirstName, in.LastName = NormalizeEmail(in.Email), strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if !ValidEmail(in.Email) || !plainText(in.FirstName, maxNameLen) || !plainText(in.LastName, maxNameLen) {
		return OrderResult{}, Errorf(CodeInvalid, "a contact needs a valid email and names of at most %d characters", maxNameLen)
	}
	member, err := getUser(ctx, s.users, b.ID, memberID)
	if err != nil {
		return OrderResult{}, err
	}
	if member.Kind != SubjectMember || member.Status != UserActive {
		return OrderResult{}, Errorf(CodeConflict, "contacts are entered by active members only")
	}
	digest := s.hasher.EmailDigest(in.Email)
	status, optedOut, err := s.blacklisted(ctx, b.ID, digest)
	if err != nil {
		return OrderResult{}, err
	}
	if optedOut {
		return OrderResult{Outcome: OrderBlacklisted}, nil
	}
	key := claimContact + member.ID + ":" + digest
	var res OrderResult
	err = retry(ctx, func() error {
		existing, found, err := s.contactKeys(s.contacts, s.claims).find(ctx, b.ID, key)
		if err != nil {
			return err
		}
		if found {
			res = OrderResult{Outcome: ContactExists, ContactID: existing.ID}
			return nil
		}
		now := s.clock.Now()
		c := Contact{BrandID: b.ID, ID: NewID("c_", now), MemberID: member.ID, Email: in.Email, EmailStatus: status, FirstName: in.FirstName,
			LastName: in.LastName, Source: SourceManual, CreatedAt: now}
		src := ConsentSource{Kind: SourceKindMember, Ref: member.ID}
		if err := c.ChangeMemberOptIn(MemberOptInNew, src, now); err != nil {
			return err
		}
		if err := c.ChangeBrandOptIn(BrandOptInNone, src, now); err != nil {
			return err
		}
		if err := s.createClaimedContact(ctx, b, c, key); err != nil {
			return err // ErrConflict: created meanwhile, found on the next round
		}
		res = OrderResult{Outcome: OrderContactCreated, ContactID: c.ID}
		return nil
	})
	return res, err
}

// Invite sends a contact its Member's invitation (R-RET-4: until it answers, nothing else may
// be sent to a new contact), moving it to "invitation sent". Only a new contact can be invited,
// and never one whose address is on the blacklist or cannot be mailed. The schedule that
// follows belongs to the system (R-RET-5): inviting a pending contact again changes nothing
// and answers it unchanged, so a Member cannot push its reminder and opt-out back.
func (s *ContactService) Invite(ctx context.Context, brandID BrandID, memberID, contactID string) (Contact, error) {
	c, _, err := s.InviteOnce(ctx, brandID, memberID, contactID)
	return c, err
}

// InviteOnce is Invite, also telling whether this request invited the contact (false: it was
// already pending, and nothing changed).
func (s *ContactService) InviteOnce(ctx context.Context, brandID BrandID, memberID, contactID string) (_ Contact, invited bool, _ error) {
	var m Message
	var publish bool
	out, err := s.changeMemberContact(ctx, brandID, memberID, contactID, func(c *Contact) error {
		publish, invited = false, false
		switch v := c.MemberOptIn.Value; {
		case v == MemberOptInInvitationSent:
			// A request retried after its publish failed must still get its mail out: within a
			// day of the invitation its own job is published again under its own id, which the
			// queue's duplicate detection (a day) and the sender's record of sent jobs drop if
			// it went out. Later, nothing: the sweep sends the second invitation.
			if job := c.invitationJob(); job != "" && s.clock.Now().Before(c.MemberOptIn.At.Add(invitationRepublished)) {
				var err error
				m, err = mailMessage(MailJob{BrandID: c.BrandID, Kind: MailContactInvitation, UserID: memberID, ContactID: c.ID}, job)
				if err != nil {
					return err
				}
				publish = true
			}
			return errUnchanged
		case v != MemberOptInNew:
			return Errorf(CodeConflict, "only a new or invited contact can be invited")
		case !c.EmailStatus.Deliverable():
			return Errorf(CodeConflict, "this contact's address cannot be mailed")
		}
		if _, err := s.blacklist.GetBlacklist(ctx, c.BrandID, s.hasher.EmailDigest(c.Email)); err == nil {
			return Errorf(CodeConflict, "this address is on the brand's blacklist (R-MAIL-4)")
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		now := s.clock.Now()
		jobID := NewID("inv_", now)
		if err := c.ChangeMemberOptIn(MemberOptInInvitationSent, ConsentSource{Kind: SourceKindInvitation, Ref: jobID}, now); err != nil {
			return err
		}
		c.InvitationSentAt = now
		var err error
		m, err = mailMessage(MailJob{BrandID: c.BrandID, Kind: MailContactInvitation, UserID: memberID, ContactID: c.ID}, jobID)
		publish, invited = err == nil, err == nil
		return err
	})
	if err != nil || !publish {
		return out, invited, err
	}
	// Recorded first, published second: the sender mails only a contact whose invitation is
	// recorded, so a crash in between sends nothing rather than an unrecorded mail; a failed
	// publish fails the request, whose retry publishes the same job again (above), and the
	// sweep sends the second invitation in any case (R-RET-5).
	_, err = s.queue.Publish(ctx, QueueMail, m)
	return out, invited, err
}

// invitationRepublished is how long after an invitation a Member's repeated request publishes
// its job again: the duplicate-detection window of the mail queue.
const invitationRepublished = 24 * time.Hour

// invitationJob is the job id of the invitation that moved the contact to "invitation sent",
// recorded as the source of that change, or "" if the history no longer holds it.
func (c Contact) invitationJob() string {
	for i := len(c.History) - 1; i >= 0; i-- {
		h := c.History[i]
		if h.Kind == ConsentMember && h.To == string(MemberOptInInvitationSent) {
			if h.Source.Kind == SourceKindInvitation && h.At.Equal(c.MemberOptIn.At) {
				return h.Source.Ref
			}
			return ""
		}
	}
	return ""
}

// memberContact loads a contact of the member, as a not-found for any other.
func (s *ContactService) memberContact(ctx context.Context, brand BrandID, memberID, contactID string) (Contact, error) {
	c, err := s.contacts.GetContact(ctx, brand, contactID)
	if errors.Is(err, ErrNotFound) || (err == nil && (c.MemberID != memberID || c.Erased())) {
		return Contact{}, Errorf(CodeNotFound, "unknown contact")
	}
	return c, err
}

// InvitationAnswer is a contact's answer to an invitation.
type InvitationAnswer string

const (
	InvitationAccept  InvitationAnswer = "accept"
	InvitationDecline InvitationAnswer = "decline"
	// InvitationGlobalOptOut refuses every Member of the brand: the address goes on the
	// brand's blacklist (R-MAIL-4).
	InvitationGlobalOptOut InvitationAnswer = "global_opt_out"
)

var errInvitationGone = Errorf(CodeGone, "this invitation has expired or was already answered")

// invitationToken finds an unexpired, unused invitation token.
func (s *ContactService) invitationToken(ctx context.Context, brand BrandID, token string) (Token, error) {
	return s.linkToken(ctx, s.tokens, brand, token, linkTokenRule{purpose: TokenContactInvitation, gone: errInvitationGone})
}

// CheckInvitation tells whether an invitation link can still be answered, changing nothing:
// mail scanners fetch links, so only the POST answers.
func (s *ContactService) CheckInvitation(ctx context.Context, brandID BrandID, token string) error {
	if _, err := s.brand(ctx, brandID); err != nil {
		return err
	}
	_, err := s.invitationToken(ctx, brandID, token)
	return err
}

// AnswerInvitation applies the contact's answer (R-CONSENT-1): accepted, declined (blocked,
// its address hidden from the Member, R-RET-7) or a global opt-out, which also puts the
// address's digest on the brand's blacklist (R-MAIL-4). The token is single-use and is the
// proof's reference.
func (s *ContactService) AnswerInvitation(ctx context.Context, brandID BrandID, token string, answer InvitationAnswer) error {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return err
	}
	to := map[InvitationAnswer]MemberOptIn{InvitationAccept: MemberOptInInvitationAccepted,
		InvitationDecline: MemberOptInInvitationDeclined, InvitationGlobalOptOut: MemberGlobalOptOut}[answer]
	if to == "" {
		return Errorf(CodeInvalid, "answer must be accept, decline or global_opt_out")
	}
	t, err := s.invitationToken(ctx, b.ID, token)
	if err != nil {
		return err
	}
	var digest string
	err = retry(ctx, func() error {
		c, err := s.contacts.GetContact(ctx, b.ID, t.UserID)
		if errors.Is(err, ErrNotFound) || (err == nil && c.Erased()) {
			return errInvitationGone
		}
		if err != nil {
			return err
		}
		digest = s.hasher.EmailDigest(c.Email)
		ref := strings.TrimPrefix(t.Digest, s.hasher.version+":")[:16] // the token's digest: no personal data
		if err := c.ChangeMemberOptIn(to, ConsentSource{Kind: SourceKindInvitation, Ref: ref}, s.clock.Now()); err != nil {
			if ErrorCode(err) == CodeConflict {
				return errInvitationGone // answered another way meanwhile
			}
			return err
		}
		_, err = s.updateContact(ctx, b, c)
		return err
	})
	if err != nil {
		return err
	}
	if answer == InvitationGlobalOptOut {
		if err := s.optOuts.PutBlacklist(ctx, BlacklistEntry{BrandID: b.ID, Digest: digest, Reason: BlacklistGlobalOptOut, CreatedAt: s.clock.Now()}); err != nil {
			return err
		}
		// Every other Member's copy follows (R-CONSENT-7), by the system applying the rule.
		if err := s.globalOptOutCopies(ctx, b, digest, t.UserID, ConsentSource{Kind: SourceKindSystem, Ref: "R-CONSENT-7"}); err != nil {
			return err
		}
	}
	t.UsedAt = s.clock.Now()
	if _, err := s.tokens.UpdateToken(ctx, t); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	s.log.InfoContext(ctx, "invitation answered", "brand", b.ID, "contact", t.UserID, "answer", string(answer))
	return nil
}

// createContact and updateContact write a contact with its due index recomputed, so that the
// retention sweep finds it when its next rule falls due (R-RET-3…8).
func (s *ContactService) createContact(ctx context.Context, b Brand, c Contact) (Contact, error) {
	c.NextReviewAt = NextContactReview(c, b)
	return s.contacts.CreateContact(ctx, c)
}

func (s *ContactService) updateContact(ctx context.Context, b Brand, c Contact) (Contact, error) {
	c.NextReviewAt = NextContactReview(c, b)
	return s.contacts.UpdateContact(ctx, c)
}

// ContactActivityKind is an interaction of a contact that the platform reports.
type ContactActivityKind string

const (
	ContactClick ContactActivityKind = "click"
	ContactLike  ContactActivityKind = "like"
	// ContactOpen is named only to be refused: opening an email is not activity (R-RET-3).
	ContactOpen ContactActivityKind = "open"
)

// RecordContactActivity records an intentional interaction of a Member's contact, a click or
// a like, which restarts its three years of R-RET-3. An open is refused: it is not activity.
// Repeating a report moves the date to the latest, so a retried request is harmless.
func (s *ContactService) RecordContactActivity(ctx context.Context, brandID BrandID, memberID, contactID string, kind ContactActivityKind) (Contact, error) {
	switch kind {
	case ContactClick, ContactLike:
	case ContactOpen:
		return Contact{}, Errorf(CodeInvalid, "opening an email is not activity (R-RET-3): report clicks and likes only")
	default:
		return Contact{}, Errorf(CodeInvalid, "kind must be click or like")
	}
	return s.changeMemberContact(ctx, brandID, memberID, contactID, func(c *Contact) error {
		if now := s.clock.Now(); now.After(c.LastActivityAt) {
			c.LastActivityAt = now
		}
		return nil
	})
}

// ReleaseContactSoftBounce clears a contact's soft bounce at its Member's request, relayed by
// the platform (R-MAIL-2); no other status can be released. Releasing a released one changes
// nothing.
func (s *ContactService) ReleaseContactSoftBounce(ctx context.Context, brandID BrandID, memberID, contactID string) (Contact, error) {
	return s.changeMemberContact(ctx, brandID, memberID, contactID, func(c *Contact) error {
		switch c.EmailStatus {
		case EmailSoftBounce:
			c.EmailStatus = EmailOK
			return nil
		case EmailOK:
			return errUnchanged
		}
		return Errorf(CodeConflict, "only a soft bounce can be released (R-MAIL-2)")
	})
}

// changeMemberContact is the read-decide-write loop for one contact of a Member of an active
// brand: change decides on a fresh copy (errUnchanged: nothing to write), the write is
// guarded by the version read and recomputes the due index.
func (s *ContactService) changeMemberContact(ctx context.Context, brandID BrandID, memberID, contactID string, change func(*Contact) error) (Contact, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return Contact{}, err
	}
	var out Contact
	err = retry(ctx, func() error {
		c, err := s.memberContact(ctx, b.ID, memberID, contactID)
		if err != nil {
			return err
		}
		if err := change(&c); err != nil {
			if errors.Is(err, errUnchanged) {
				out, err = c, nil
			}
			return err
		}
		out, err = s.updateContact(ctx, b, c)
		return err
	})
	return out, err
}

// ContactMailEvent is a mail provider's event about a mail to a contact (an invitation),
// traced to the contact by the id the mail carried.
type ContactMailEvent struct {
	ContactID string
	JobID     string // the mail's job: the proof of an unsubscribe
	Kind      MailEventKind
	At        time.Time
	Permanent bool
}

// ApplyMailEvents lets the provider's events reach the contacts they are about: an
// unsubscribe is the contact's opt-out from the Member's mail (R-CONSENT-1 "opt-out from an
// email", proven by the mail's job id); a bounce, a block or a complaint sets its email status,
// after which nothing is mailed to it (R-CONSENT-6; the blacklist of the address is the
// MailEventService's); a click is activity (R-RET-3), an open is not. Events of unknown or
// erased contacts are ignored. An event's time is taken as the MailEventService takes it
// (dateMailEvent), which also counts the events it skips or dates now: a click dated in the
// far future never postpones R-RET-3, and an unsubscribe without a time is still applied.
// Applying a batch again changes nothing more.
func (s *ContactService) ApplyMailEvents(ctx context.Context, brandID BrandID, events []ContactMailEvent) (changed int, err error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now().UTC()
	byContact := map[string][]ContactMailEvent{}
	var order []string
	for _, e := range events {
		switch e.Kind {
		case MailEventUnsub, MailEventBounce, MailEventBlocked, MailEventSpam, MailEventClick:
		default:
			continue
		}
		var dating eventDating
		if e.At, dating = dateMailEvent(e.Kind, e.At, now); dating == eventSkipped {
			continue
		}
		if e.ContactID == "" || len(e.ContactID) > 64 {
			continue
		}
		if byContact[e.ContactID] == nil {
			order = append(order, e.ContactID)
		}
		byContact[e.ContactID] = append(byContact[e.ContactID], e)
	}
	for _, id := range order {
		done, err := s.applyContactEvents(ctx, b, id, byContact[id])
		if err != nil {
			return changed, err
		}
		if done {
			changed++
		}
	}
	return changed, nil
}

func (s *ContactService) applyContactEvents(ctx context.Context, b Brand, id string, events []ContactMailEvent) (changed bool, err error) {
	err = retry(ctx, func() error {
		c, err := s.contacts.GetContact(ctx, b.ID, id)
		if errors.Is(err, ErrNotFound) || (err == nil && c.Erased()) {
			changed = false
			return nil
		}
		if err != nil {
			return err
		}
		before := c.MemberOptIn.Value
		status, activity := c.EmailStatus, c.LastActivityAt
		for _, e := range events {
			switch e.Kind {
			case MailEventUnsub:
				// Refused (already opted out, or a reference that is not an id): nothing to do.
				_ = c.ChangeMemberOptIn(MemberOptOutFromEmail, ConsentSource{Kind: SourceKindMailjet, Ref: e.JobID}, e.At)
			case MailEventClick:
				if e.At.After(c.LastActivityAt) {
					c.LastActivityAt = e.At
				}
			default:
				_, st := eventEffect(MailEvent{Kind: e.Kind, At: e.At, Permanent: e.Permanent})
				if st != EmailOK && !permanent(c.EmailStatus) {
					c.EmailStatus = st
				}
			}
		}
		changed = c.MemberOptIn.Value != before || c.EmailStatus != status || !c.LastActivityAt.Equal(activity)
		if !changed {
			return nil
		}
		_, err = s.updateContact(ctx, b, c)
		return err
	})
	return changed, err
}
