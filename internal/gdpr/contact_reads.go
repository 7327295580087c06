package gdpr

import (
	"context"
	"time"
)

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
