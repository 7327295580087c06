package storetest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// seq numbers every generated value, so values never collide within a process and ids sort in
// the order they were made.
var seq atomic.Int64

func next() int64 { return seq.Add(1) }

// Epoch is the instant fake times start from. It carries nanoseconds on purpose: stores need
// only keep microseconds, and Normalize is what makes such a store pass.
var Epoch = time.Date(2031, 5, 17, 9, 30, 0, 123456789, time.UTC)

func at(n int64) time.Time { return Epoch.Add(time.Duration(n) * time.Minute) }

// NewBrandID returns a brand id no other test uses — a counter for this process and a random
// suffix for the others — so adapters on a shared emulator need no cleanup between runs.
func NewBrandID() gdpr.BrandID {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var r [8]byte
	_, _ = rand.Read(r[:]) // never fails (crypto/rand panics instead)
	for i := range r {
		r[i] = alphabet[int(r[i])%len(alphabet)]
	}
	return gdpr.BrandID(fmt.Sprintf("st-%d-%s", next(), r[:]))
}

// NewBrand returns a brand with every field set.
func NewBrand(id gdpr.BrandID) gdpr.Brand {
	n := next()
	return gdpr.Brand{
		ID:                    id,
		Name:                  fmt.Sprintf("Fake Brand %d", n),
		Pro:                   gdpr.ProDirectSelling,
		SSOExclusive:          true,
		WhitelistEnabled:      true,
		WebhookSecret:         "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))),
		PreviousWebhookSecret: "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("p", 32))),
		SCIMTokenDigest:       fmt.Sprintf("h1:%064x", n),
		SweepCursor:           &gdpr.DueCursor{At: at(n), ID: fmt.Sprintf("m_cursor_%d", n)},
		MailjetCallback:       gdpr.MailjetCallback{Username: "mailjet", PasswordDigest: fmt.Sprintf("h1:%064x", n+1)},
		Mail: gdpr.MailSettings{From: gdpr.Sender{Email: fmt.Sprintf("sender%d@example.test", n), Name: "Fake sender"}, Templates: map[gdpr.MailKind]int64{gdpr.MailSignupConfirmation: n},
			SoftBounces:         gdpr.SoftBouncePolicy{Limit: 3, Window: gdpr.Period{Days: 7}},
			TemplatesByLanguage: map[string]map[gdpr.MailKind]int64{"fr": {gdpr.MailContactInvitation: n + 1}}},
		Identity: gdpr.BrandIdentity{LogoURL: "https://brand.example/logo.png", PrimaryColor: "#1a4d8f",
			SiteURL: "https://brand.example/", PrivacyURL: "https://brand.example/privacy", SignInURL: "https://brand.example/sign-in",
			PostalAddress: "1 rue de l'Exemple\n75001 Paris"},
		DefaultLanguage: "fr",
		TimeZone:        "Europe/Paris",
		Retention:       gdpr.DefaultRetention(),
		Fields:          gdpr.FieldRules{"alias": gdpr.FieldRequired, "title": gdpr.FieldNotAsked},
		Contacts:        gdpr.ContactSettings{ManualEntry: true},
		Status:          gdpr.BrandActive,
		ContractEnd:     &gdpr.ContractEnd{RequestedAt: at(n), DueAt: at(n).AddDate(0, 1, 0), FannedOutAt: at(n).AddDate(0, 1, 1)},
		Suspension:      &gdpr.Suspension{RequestedAt: at(n), KeepUntil: at(n).AddDate(0, 6, 0), MailedAt: at(n).Add(time.Minute)},
		CreatedAt:       at(n),
		UpdatedAt:       at(n).Add(time.Second),
	}
}

// NewUser returns a user of brand with every field set to generated fake data (R-OPS-4). Its
// id sorts after every id made before it.
func NewUser(brand gdpr.BrandID) gdpr.User {
	n := next()
	t := at(n)
	return gdpr.User{
		BrandID: brand,
		ID:      fmt.Sprintf("usr-%010d", n),
		Role:    gdpr.RoleVendor,
		Status:  gdpr.UserBlocked,
		Kind:    gdpr.SubjectMember,

		CreatedAt:   t,
		ConfirmedAt: t.Add(time.Hour),

		Alias:         fmt.Sprintf("alias%d", n),
		FirstName:     fmt.Sprintf("Firstname%d", n),
		LastName:      fmt.Sprintf("Lastname%d", n),
		Title:         "Dr",
		PasswordHash:  "$2a$10$" + strings.Repeat("f", 53),
		CustomerID:    fmt.Sprintf("cust-%d", n),
		SocialID:      fmt.Sprintf("google:fake-subject-%d", n),
		ExternalID:    fmt.Sprintf("ext-%d", n),
		UserName:      fmt.Sprintf("Ext-%d", n),
		DisplayName:   fmt.Sprintf("Firstname%d Lastname%d (display)", n, n),
		FormattedName: fmt.Sprintf("Firstname%d Middle Lastname%d", n, n),
		IdPExternalID: fmt.Sprintf("idp-%d", n),
		Email:         fmt.Sprintf("user%d@example.test", n),
		EmailTmp:      fmt.Sprintf("tmp%d@example.test", n),
		Address:       gdpr.Address{Street: fmt.Sprintf("%d Fake Street", n), City: "Testville", PostalCode: "99999", Country: "ZZ"},
		Language:      "fr",
		DateOfBirth:   gdpr.Date{Year: 1990, Month: 2, Day: 3},
		Terms:         &gdpr.Terms{Version: "v3", AcceptedAt: t.Add(time.Minute)},
		PhotoKey:      fmt.Sprintf("%s/photos/%d.jpg", brand, n),
		UGC:           []gdpr.UGC{{Key: fmt.Sprintf("%s/ugc/%d-a", brand, n), ContestID: "contest-1", KeepUntil: t.AddDate(2, 0, 0)}, {Key: fmt.Sprintf("%s/ugc/%d-b", brand, n)}},
		Description:   fmt.Sprintf("Fake description %d — with non-ASCII: é, ß, 日本", n),
		Phone:         fmt.Sprintf("+00 %09d", n),
		Position:      "Tester",
		Visibility:    gdpr.Visibility{HideEvents: true, HideFromCommunity: true},
		OptIns: gdpr.OptIns{Newsletter: true, Events: true, Challenges: true, Comments: true,
			NewsletterAt: t.Add(6 * time.Minute), EventsAt: t.Add(7 * time.Minute),
			ChallengesAt: t.Add(8 * time.Minute), CommentsAt: t.Add(9 * time.Minute)},
		EmailStatus:   gdpr.EmailSoftBounce,
		EmailStatusAt: t.Add(5 * time.Hour),

		LastLoginAt:    t.Add(2 * time.Hour),
		LastActivityAt: t.Add(3 * time.Hour),
		SSOEventAt:     t.Add(4 * time.Hour),

		Block: &gdpr.Block{Reason: gdpr.ReasonUnsubscribed, Rule: "R-ERASE-5", RequestedAt: t.Add(5 * time.Hour),
			DueAt: t.Add(7 * 24 * time.Hour), PreviousStatus: gdpr.UserActive, JobRef: fmt.Sprintf("job-%d", n)},
		Warnings: gdpr.InactivityWarnings{Mark: t.AddDate(3, 0, 0), FirstAt: t.AddDate(2, 11, 0), SecondAt: t.AddDate(2, 11, 15)},
		Erasure: &gdpr.ErasureState{ID: fmt.Sprintf("era-%d", n), Rule: "R-ERASE-5", Reason: gdpr.ReasonUnsubscribed,
			RequestedAt: t.Add(5 * time.Hour), DueAt: t.Add(7 * 24 * time.Hour), Step: "fields", DoneAt: t.Add(8 * 24 * time.Hour),
			FieldsErased: []string{"firstName", "phone"}, FieldsHashed: []string{"email"},
			PendingBlobs: []string{fmt.Sprintf("%s/photos/%d.jpg", brand, n)}, PendingClaims: []string{gdpr.ClaimEmail + fmt.Sprintf("h1:%064x", n)},
			BlobsDeleted: 1},
		Restriction: &gdpr.Restriction{Kind: gdpr.RequestRestriction, RequestID: fmt.Sprintf("r_%026d", n), Since: t.Add(6 * time.Hour)},

		NextReviewAt: t.Add(7 * 24 * time.Hour),
	}
}

// NewContact returns a contact of member with every field set to generated fake data. Its id
// sorts after every id made before it.
func NewContact(brand gdpr.BrandID, memberID string) gdpr.Contact {
	n := next()
	t := at(n)
	return gdpr.Contact{
		BrandID:  brand,
		ID:       fmt.Sprintf("con-%010d", n),
		MemberID: memberID,

		Email:       fmt.Sprintf("contact%d@example.test", n),
		EmailStatus: gdpr.EmailSoftBounce,
		FirstName:   fmt.Sprintf("Firstname%d", n),
		LastName:    fmt.Sprintf("Lastname%d", n),
		Phone:       fmt.Sprintf("+00 %09d", n),
		Notes:       fmt.Sprintf("Fake notes %d, met at a fake fair", n),
		Tags:        []string{"vip", fmt.Sprintf("tag-%d", n)},
		Address:     gdpr.Address{Street: fmt.Sprintf("%d Fake Avenue", n), City: "Testville", PostalCode: "99999", Country: "ZZ"},

		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInInvitationSent, At: t.Add(time.Minute)},
		BrandOptIn:  gdpr.BrandOptInState{Value: gdpr.BrandOptInBlog, At: t.Add(2 * time.Minute)},
		Source:      gdpr.SourceImport,
		History: []gdpr.ConsentChange{{Kind: gdpr.ConsentMember, From: string(gdpr.MemberOptInNew),
			To: string(gdpr.MemberOptInInvitationSent), At: t.Add(time.Minute),
			Source: gdpr.ConsentSource{Kind: gdpr.SourceKindInvitation, Ref: fmt.Sprintf("mail_%d", n)}}},
		Sales: []gdpr.Sale{{OrderID: fmt.Sprintf("order-%d", n), Amount: "49.90", Currency: "EUR", At: t.Add(30 * time.Minute),
			Products: []gdpr.SaleLine{{SKU: fmt.Sprintf("sku-%d", n), Quantity: 2}, {SKU: "sku-gift", Quantity: 1}}}},

		CreatedAt:        t,
		LastActivityAt:   t.Add(time.Hour),
		InvitationSentAt: t.Add(2 * time.Hour),

		ErasedAt: t.Add(3 * time.Hour),
		ErasedBy: fmt.Sprintf("era-%d", n),
		Erasure: &gdpr.ErasureState{ID: fmt.Sprintf("era-%d", n), Rule: "R-RET-3", Reason: gdpr.ReasonInactivity,
			RequestedAt: t.Add(2 * time.Hour), DueAt: t.Add(3 * time.Hour), Step: "done", DoneAt: t.Add(3 * time.Hour),
			FieldsErased: []string{"firstName"}, FieldsHashed: []string{"email"}, PendingBlobs: []string{"b/1"},
			PendingClaims: []string{"contact:x"}, BlobsDeleted: 1},

		NextReviewAt: t.Add(24 * time.Hour),
	}
}

// NewToken returns a token of user with every field set. It expires years after its creation,
// so no store may drop it during a test.
func NewToken(brand gdpr.BrandID, userID string) gdpr.Token {
	n := next()
	return gdpr.Token{
		BrandID:   brand,
		Digest:    fmt.Sprintf("h1:%064x", n),
		Purpose:   gdpr.TokenSignupConfirmation,
		UserID:    userID,
		CreatedAt: at(n),
		ExpiresAt: at(n).AddDate(10, 0, 0),
		UsedAt:    at(n).Add(time.Hour),
	}
}

// NewClaim returns a claim on key that expires at expires (zero: until released).
func NewClaim(brand gdpr.BrandID, key, owner string, created, expires time.Time) gdpr.Claim {
	return gdpr.Claim{BrandID: brand, Key: key, Owner: owner, CreatedAt: created, ExpiresAt: expires}
}

// NewErasure returns an audit record with every field set.
func NewErasure(brand gdpr.BrandID) gdpr.ErasureRecord {
	n := next()
	role := gdpr.RoleManager
	return gdpr.ErasureRecord{
		BrandID:        brand,
		ID:             fmt.Sprintf("era-%010d", n),
		SubjectID:      fmt.Sprintf("usr-%010d", n),
		SubjectKind:    gdpr.SubjectMember,
		Role:           &role,
		Rule:           "R-ERASE-5",
		Reason:         gdpr.ReasonUnsubscribed,
		RequestedAt:    at(n),
		DueAt:          at(n).AddDate(0, 0, 7),
		DoneAt:         at(n).AddDate(0, 0, 8),
		FieldsErased:   []string{"firstName", "phone"},
		FieldsHashed:   []string{"email"},
		BlobsDeleted:   2,
		ContactsErased: 3,
		ContactsKept:   1,
	}
}

// NewDigest returns a fresh digest-shaped string: blacklists, whitelists and claim keys hold
// digests, never addresses.
func NewDigest() string { return fmt.Sprintf("h1:%064x", next()) }

// Normalize returns a deep copy of v with every time.Time truncated to the microsecond and in
// UTC. Stores must keep instants to at least the microsecond, but need not keep the
// nanoseconds or the zone; comparing normalised values asks exactly that.
func Normalize[T any](v T) T {
	c := reflect.ValueOf(&v).Elem()
	normalize(c)
	return v
}

var timeType = reflect.TypeFor[time.Time]()

func normalize(v reflect.Value) {
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Truncate(time.Microsecond).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(v.Elem())
			normalize(c.Elem())
			v.Set(c)
		}
	case reflect.Slice:
		if !v.IsNil() {
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(c, v)
			for i := range c.Len() {
				normalize(c.Index(i))
			}
			v.Set(c)
		}
	case reflect.Map:
		if !v.IsNil() {
			c := reflect.MakeMapWithSize(v.Type(), v.Len())
			for it := v.MapRange(); it.Next(); {
				e := reflect.New(v.Type().Elem()).Elem()
				e.Set(it.Value())
				normalize(e)
				c.SetMapIndex(it.Key(), e)
			}
			v.Set(c)
		}
	}
}

// RequireSame asserts two documents are equal once normalised.
func RequireSame[T any](t testing.TB, want, got T, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, Normalize(want), Normalize(got), msgAndArgs...)
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

// requireFilled fails on any field of v left at its zero value, but those named in except, so
// a round trip of v covers every field — and a field added to the domain later fails here until
// the fakes set it. Types with their own JSON form (time, Date, Period) count as one value.
func requireFilled(t testing.TB, v any, except ...string) {
	t.Helper()
	var empty []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if v.IsZero() {
			empty = append(empty, path)
			return
		}
		if v.Type() == timeType || v.Type().Implements(marshalerType) {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			walk(path, v.Elem())
		case reflect.Slice:
			walk(path+"[0]", v.Index(0))
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				name := strings.TrimPrefix(path+"."+f.Name, ".")
				if f.IsExported() && !slices.Contains(except, name) {
					walk(name, v.Field(i))
				}
			}
		}
	}
	walk("", reflect.ValueOf(v))
	require.Empty(t, empty, "the fake leaves these fields empty; set them so the round trip covers them")
}

// ErasureBacklog is what the erasure-worker benchmarks start from: members of brand blocked
// past their grace period, each with ten contacts and no Brand opt-in, and their jobs.
type ErasureBacklog struct {
	Users    []gdpr.User
	Contacts []gdpr.Contact
	Jobs     [][]byte // ErasureJob bodies, one per user, in order
}

// NewErasureBacklog makes n such members, blocked eight days before now.
func NewErasureBacklog(brand gdpr.BrandID, n int, now time.Time) ErasureBacklog {
	bl := ErasureBacklog{Users: make([]gdpr.User, n), Contacts: make([]gdpr.Contact, 0, 10*n), Jobs: make([][]byte, n)}
	for i := range n {
		u := gdpr.User{BrandID: brand, ID: fmt.Sprintf("m_%08d", i), Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
			Status: gdpr.UserBlocked, CreatedAt: now, FirstName: "First", LastName: "Last", Email: fmt.Sprintf("user%d@example.test", i),
			Block: &gdpr.Block{Reason: gdpr.ReasonUnsubscribed, Rule: gdpr.RuleGracePeriod, RequestedAt: now.AddDate(0, 0, -8), DueAt: now.AddDate(0, 0, -1)}}
		u.NextReviewAt = u.Block.DueAt
		bl.Users[i] = u
		for j := range 10 {
			bl.Contacts = append(bl.Contacts, gdpr.Contact{BrandID: brand, ID: fmt.Sprintf("c_%08d_%d", i, j), MemberID: u.ID,
				Email: fmt.Sprintf("c%d.%d@example.test", i, j), FirstName: "Contact", CreatedAt: now,
				BrandOptIn: gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: now}})
		}
		bl.Jobs[i] = fmt.Appendf(nil, `{"brandId":%q,"subjectKind":"member","subjectId":%q,"rule":%q,"dueAt":%q}`,
			brand, u.ID, gdpr.RuleGracePeriod, u.Block.DueAt.Format(time.RFC3339))
	}
	return bl
}
