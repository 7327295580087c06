package gdpr

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// The services, one per capability, each holding only the ports it uses:
//
//	BrandService             brand settings and whitelists          brands, whitelist
//	SignupService            signup, resend, double opt-in          users, claims, whitelist, tokens, queue, passwords,
//	                         (its confirmation lifts a complaint)   blacklist, blacklist remover
//	BlacklistService         blacklist lookup and audited removal   blacklist, blacklist remover
//	MailService              the mail sender (queue consumer)       users, contacts, claims, tokens, blacklist, mailer, links
//	MailEventService         Mailjet's events: statuses, blacklist  users, claims, blacklist
//	RetentionService         block, restore, activity, contract     users, queue, tokens
//	                         end, suspension, the users' sweep
//	ContactRetentionService  the contacts' sweep                    contact due index, contacts, queue
//	ContactService           orders, sync, manual entry, consent,   contacts, users, claims, blacklist, audit,
//	                         invitations, unsubscribe pages         queue, tokens, sent mail
//	ProvisioningService      SSO webhooks and SCIM                  users, claims, queue
//	WebhookService           signed webhooks' keys and replays      claims
//	ErasureService           the one owner of erasure (erase.go),   users, contacts, claims, audit, ledger, blobs,
//	                         the erasure worker, the audit trail    queue, sent mail
//	LedgerService            the erasure ledger: appends, seals,    ledger store (outside the database)
//	                         proofs, export
//	RestoreService           a restored store found behind the      audit, claims, ledger store, ErasureService
//	                         ledger, and its replay
//	HashKeyService           the hash-key rotation: digests per     users, contacts, claims, digests (claims,
//	                         version, re-keying, the retire check   blacklist, whitelist lists)
//	MailCallback             the mail provider's callbacks:         MailEventService, ContactService
//	                         addresses first, then contacts
//	ExportService            access, portability and brand          users, contacts, audit, export records,
//	                         exports: zip, link, download, sweep    export files, member files, links
//
// They share a Core. HTTP handlers, queue consumers and timers are thin shells around their
// methods; NewServices (wire.go) is the one place that hands them their ports.

// Core is what every service shares.
type Core struct {
	Brands BrandStore
	Hasher *Hasher
	Clock  Clock        // SystemClock when nil
	Logger *slog.Logger // discarded when nil
	// Wait pauses before looking again at another writer's work in progress (a create that
	// holds a unique key); nil sleeps. Model tests make it a step of their schedule.
	Wait func(ctx context.Context, d time.Duration) error
	// Erased, when set, hears that an erasure wrote over personal data, whether or not it then
	// finished: a store that keeps overwritten values in files of its own (local mode's SQLite
	// log) scrubs them then.
	Erased func()
}

// core is a checked Core, embedded by every service.
type core struct {
	brands BrandStore
	hasher *Hasher
	clock  Clock
	log    *slog.Logger
	wait   func(ctx context.Context, d time.Duration) error
	erased func()
}

func (c Core) check() (core, error) {
	if c.Brands == nil || c.Hasher == nil {
		return core{}, errors.New("gdpr: Core needs Brands and Hasher")
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Wait == nil {
		c.Wait = waitFor
	}
	if c.Erased == nil {
		c.Erased = func() {}
	}
	return core{brands: c.Brands, hasher: c.Hasher, clock: c.Clock, log: c.Logger, wait: c.Wait, erased: c.Erased}, nil
}

// missing names the nil dependencies of a service, in order.
func missing(service string, deps map[string]bool) error {
	var absent []string
	for name, present := range deps {
		if !present {
			absent = append(absent, name)
		}
	}
	if len(absent) == 0 {
		return nil
	}
	slices.Sort(absent)
	return errors.New("gdpr: " + service + " needs " + strings.Join(absent, ", "))
}

// brand loads a brand, mapping a missing one to a client-facing not-found.
func (c *core) brand(ctx context.Context, id BrandID) (Brand, error) {
	if !id.Valid() {
		return Brand{}, Errorf(CodeNotFound, "unknown brand")
	}
	b, err := c.brands.GetBrand(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Brand{}, Errorf(CodeNotFound, "unknown brand")
	}
	if err != nil {
		return Brand{}, err
	}
	b.Retention = b.Retention.WithDefaults()
	return b, nil
}

// activeBrand is a brand whose contract has not ended and whose program is not suspended:
// ended and suspended brands accept no new data (R-ERASE-7, R-ERASE-8).
func (c *core) activeBrand(ctx context.Context, id BrandID) (Brand, error) {
	b, err := c.brand(ctx, id)
	switch {
	case err == nil && b.Ended():
		return Brand{}, Errorf(CodeForbidden, "the brand's contract has ended")
	case err == nil && b.Status == BrandSuspended:
		return Brand{}, Errorf(CodeForbidden, "the brand's program is suspended")
	}
	return b, err
}

// keys is the unique-key protocol over these users and claims.
func (c *core) keys(users UserStore, claims ClaimStore) uniqueKeys[User] {
	return uniqueKeys[User]{claims: claims, holders: userHolders{users}, clock: c.clock, wait: c.wait}
}

// contactKeys is the unique-key protocol over a member's contacts and their claims.
func (c *core) contactKeys(contacts ContactDocuments, claims ClaimStore) uniqueKeys[Contact] {
	return uniqueKeys[Contact]{claims: claims, holders: contactHolders{contacts}, clock: c.clock, wait: c.wait}
}

// errSettled marks a conflict that reading again cannot change (an address another member
// holds): retry gives it back at once instead of going round.
var errSettled = errors.New("settled")

// retry runs fn again while it fails with a version conflict: the read-decide-write loop of
// optimistic concurrency. fn must re-read what it decides on.
func retry(ctx context.Context, fn func() error) error { return retryUpTo(ctx, 8, fn) }

// retryUpTo is retry with its own bound of attempts. A conflict means another writer's write
// landed in between, and each writer lands once, so among n writers of one document none
// loses more than n-1 times: attempts bounds the concurrent writers that all land.
func retryUpTo(ctx context.Context, attempts int, fn func() error) error {
	var err error
	for range attempts {
		if err = fn(); !errors.Is(err, ErrConflict) || errors.Is(err, errSettled) {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
	}
	return err
}

// getUser loads a user, mapping a missing one to a client-facing not-found.
func getUser(ctx context.Context, users UserStore, brand BrandID, id string) (User, error) {
	if id == "" || len(id) > 64 {
		return User{}, Errorf(CodeNotFound, "unknown member")
	}
	u, err := users.GetUser(ctx, brand, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, Errorf(CodeNotFound, "unknown member")
	}
	return u, err
}

// BrandService keeps brands' settings and whitelists.
type BrandService struct {
	core
	whitelist WhitelistStore
}

// NewBrandService checks its dependencies.
func NewBrandService(c Core, whitelist WhitelistStore) (*BrandService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("BrandService", map[string]bool{"WhitelistStore": whitelist != nil})
	}
	if err != nil {
		return nil, err
	}
	return &BrandService{core: cc, whitelist: whitelist}, nil
}

// SignupDeps are the ports of the SignupService.
type SignupDeps struct {
	Users     UserStore
	Claims    ClaimStore
	Whitelist WhitelistStore
	Tokens    TokenStore
	Queue     Queue // mail jobs
	Passwords PasswordHasher
	// Blacklist and Remover lift a complaint or a global opt-out on the address a member
	// confirms: the person's own new consent (R-MAIL-4).
	Blacklist Blacklist
	Remover   BlacklistRemover
	// ResendInterval is the least time between two confirmation mails to one address; a
	// minute when zero.
	ResendInterval time.Duration
}

// SignupService registers members with email double opt-in (R-SIGNUP-1…7).
type SignupService struct {
	core
	users     UserStore
	claims    ClaimStore
	whitelist WhitelistStore
	tokens    TokenStore
	queue     Queue
	passwords PasswordHasher
	blacklist Blacklist
	remover   BlacklistRemover
	resend    time.Duration
}

// NewSignupService checks its dependencies.
func NewSignupService(c Core, d SignupDeps) (*SignupService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("SignupService", map[string]bool{
			"Users": d.Users != nil, "Claims": d.Claims != nil, "Whitelist": d.Whitelist != nil,
			"Tokens": d.Tokens != nil, "Queue": d.Queue != nil, "Passwords": d.Passwords != nil,
			"Blacklist": d.Blacklist != nil, "Remover": d.Remover != nil,
		})
	}
	if err != nil {
		return nil, err
	}
	if d.ResendInterval <= 0 {
		d.ResendInterval = time.Minute
	}
	return &SignupService{core: cc, users: d.Users, claims: d.Claims, whitelist: d.Whitelist,
		tokens: d.Tokens, queue: d.Queue, passwords: d.Passwords, blacklist: d.Blacklist, remover: d.Remover,
		resend: d.ResendInterval}, nil
}

// Links builds the links that mails carry. The routes belong to the HTTP layer, which
// supplies the builder; the domain knows only what each link is for.
type Links interface {
	// SignupConfirmation is the page that confirms a signup with the plain token.
	SignupConfirmation(brand BrandID, token string) string
	// ContactInvitation is the page where a contact accepts or declines the invitation of
	// the member memberID, whom the page names.
	ContactInvitation(brand BrandID, memberID, token string) string
	// ContactUnsubscribe is the page where a contact opts out from the Member who mailed it,
	// or from every Member of the brand (R-MAIL-5, R-CONSENT-7).
	ContactUnsubscribe(brand BrandID, token string) string
	// ContactOneClickUnsubscribe is the List-Unsubscribe URL of a mail to a contact: a POST
	// of "List-Unsubscribe=One-Click" to it opts the contact out from its Member (RFC 8058,
	// R-MAIL-5), a GET shows the unsubscribe page. Its token is in the query, since a mail
	// provider's POST carries no fragment.
	ContactOneClickUnsubscribe(brand BrandID, token string) string
	// ProgramOptOut is the page where a member opts out of a suspended program (R-ERASE-8).
	ProgramOptOut(brand BrandID, token string) string
	// ExportDownload is where an export's file is downloaded with its link's token
	// (R-ACCESS-3).
	ExportDownload(brand BrandID, token string) string
}

// MailDeps are the ports of the MailService.
type MailDeps struct {
	Users     UserStore
	Contacts  ContactDocuments // invitations go to contacts
	Claims    ClaimStore       // the jobs already mailed
	Tokens    TokenStore
	Blacklist Blacklist
	Mailer    Mailer
	Links     Links
	Renderer  MailRenderer
}

// MailService renders and sends queued mail jobs.
type MailService struct {
	core
	users     UserStore
	contacts  ContactDocuments
	claims    ClaimStore
	tokens    TokenStore
	blacklist Blacklist
	mailer    Mailer
	links     Links
	renderer  MailRenderer
}

// NewMailService checks its dependencies.
func NewMailService(c Core, d MailDeps) (*MailService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("MailService", map[string]bool{
			"Users": d.Users != nil, "Contacts": d.Contacts != nil, "Claims": d.Claims != nil, "Tokens": d.Tokens != nil, "Blacklist": d.Blacklist != nil,
			"Mailer": d.Mailer != nil, "Links": d.Links != nil, "Renderer": d.Renderer != nil,
		})
	}
	if err != nil {
		return nil, err
	}
	return &MailService{core: cc, users: d.Users, contacts: d.Contacts, claims: d.Claims, tokens: d.Tokens, blacklist: d.Blacklist, mailer: d.Mailer, links: d.Links, renderer: d.Renderer}, nil
}

// RetentionService applies the retention schedule: blocks and restores, activity, the end of
// a brand's contract, and the daily sweep that publishes warnings and erasure jobs.
type RetentionService struct {
	core
	users  UserStore
	queue  Queue
	tokens TokenStore // a suspended program's opt-out links (R-ERASE-8)
}

// NewRetentionService checks its dependencies.
func NewRetentionService(c Core, users UserStore, queue Queue, tokens TokenStore) (*RetentionService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("RetentionService", map[string]bool{"UserStore": users != nil, "Queue": queue != nil, "TokenStore": tokens != nil})
	}
	if err != nil {
		return nil, err
	}
	return &RetentionService{core: cc, users: users, queue: queue, tokens: tokens}, nil
}

// ErasureDeps are the ports of the ErasureService.
type ErasureDeps struct {
	Users            UserStore
	Contacts         ContactStore     // members' contacts, which their erasure cascades to
	ContactDocuments ContactDocuments // a contact erased on its own
	Claims           ClaimStore
	Audit            ErasureAudit
	Ledger           *LedgerService // where every record goes too; nil only in tests that leave it out
	Blobs            Blobs
	Queue            Queue // the brand-wide fan-out publishes one job per user
	// SentMail is where copies of sent mail are kept, if anywhere: nil when mail leaves no
	// copy in our files.
	SentMail SentMail
	// Exports deletes the erased users' exports (R-ACCESS-3); nil only in tests that leave
	// exports out.
	Exports SubjectExports
}

// SubjectExports is the export service as an erasure sees it: what it must delete.
type SubjectExports interface {
	DeleteSubjectExports(ctx context.Context, brand BrandID, subjects []string) (int, error)
}

// ErasureService runs erasure jobs of every kind of subject and reads their audit trail
// (R-ERASE-1…9): the one owner of erasure (erase.go).
type ErasureService struct {
	core
	users         UserStore
	contacts      ContactStore
	claims        ClaimStore
	audit         ErasureAudit
	blobs         Blobs
	queue         Queue
	sent          SentMail
	exports       SubjectExports
	records       erasureRecords
	contactEraser contactEraser
}

// NewErasureService checks its dependencies.
func NewErasureService(c Core, d ErasureDeps) (*ErasureService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("ErasureService", map[string]bool{
			"Users": d.Users != nil, "Contacts": d.Contacts != nil, "ContactDocuments": d.ContactDocuments != nil,
			"Claims": d.Claims != nil, "Audit": d.Audit != nil, "Blobs": d.Blobs != nil, "Queue": d.Queue != nil,
		})
	}
	if err != nil {
		return nil, err
	}
	records := erasureRecords{audit: d.Audit, ledger: d.Ledger, log: cc.log}
	return &ErasureService{core: cc, users: d.Users, contacts: d.Contacts, claims: d.Claims,
		audit: d.Audit, blobs: d.Blobs, queue: d.Queue, sent: d.SentMail, exports: d.Exports, records: records,
		contactEraser: newContactEraser(cc, d.ContactDocuments, d.Claims, d.SentMail, records)}, nil
}

// newContactEraser is the erasure of single contacts over these ports.
func newContactEraser(c core, contacts ContactDocuments, claims ClaimStore, sent SentMail, records erasureRecords) contactEraser {
	return contactEraser{contacts: contacts, claims: claims, sent: sent, records: records, hasher: c.hasher, clock: c.clock, erased: c.erased}
}
