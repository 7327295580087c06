package gdpr_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

var (
	consentT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	allKinds  = []gdpr.ConsentSourceKind{gdpr.SourceKindOrder, gdpr.SourceKindSync, gdpr.SourceKindInvitation,
		gdpr.SourceKindMailjet, gdpr.SourceKindPopin, gdpr.SourceKindMember, gdpr.SourceKindBrand, gdpr.SourceKindSystem}
)

// A fake contact with personal data in every field a message could leak.
func consentContact() gdpr.Contact {
	return gdpr.Contact{BrandID: "acme", ID: "con-1", MemberID: "m_1", Email: "ada.lovelace@example.test",
		FirstName: "Ada", LastName: "Lovelace", Phone: "+00 123456789", CreatedAt: consentT0}
}

func src(kind gdpr.ConsentSourceKind) gdpr.ConsentSource {
	return gdpr.ConsentSource{Kind: kind, Ref: "job_" + string(kind) + "-42"}
}

// key writes a transition as the expected lists below spell it.
func key(from, to string, by gdpr.ConsentSourceKind) string {
	return from + ">" + to + ":" + string(by)
}

// expectedMember is the reviewed Member opt-in machine, written out rule by rule and
// independently of consent.go's table, so that a change to the table must be made here too.
func expectedMember() map[string]bool {
	m := map[string]bool{}
	add := func(from, to gdpr.MemberOptIn, by gdpr.ConsentSourceKind) {
		m[key(string(from), string(to), by)] = true
	}
	// Creation: R-CONSENT-3, R-CONSENT-4, R-RET-4, R-RET-6.
	add("", gdpr.MemberOptInFromOrder, gdpr.SourceKindOrder)
	add("", gdpr.MemberStorageOnly, gdpr.SourceKindOrder)
	add("", gdpr.MemberOptInFromBrand, gdpr.SourceKindSync)
	add("", gdpr.MemberOptInNew, gdpr.SourceKindSync)
	add("", gdpr.MemberOptInNew, gdpr.SourceKindMember)
	add("", gdpr.MemberOptInBlogPending, gdpr.SourceKindPopin)
	// Invitations: R-RET-4, R-RET-5, decline page's global opt-out (R-MAIL-4).
	add(gdpr.MemberOptInNew, gdpr.MemberOptInInvitationSent, gdpr.SourceKindInvitation)
	add(gdpr.MemberOptInInvitationSent, gdpr.MemberOptInInvitationAccepted, gdpr.SourceKindInvitation)
	add(gdpr.MemberOptInInvitationSent, gdpr.MemberOptInInvitationDeclined, gdpr.SourceKindInvitation)
	add(gdpr.MemberOptInInvitationSent, gdpr.MemberOptOutNoAction, gdpr.SourceKindSystem)
	add(gdpr.MemberOptInInvitationSent, gdpr.MemberGlobalOptOut, gdpr.SourceKindInvitation)
	add(gdpr.MemberOptInInvitationDeclined, gdpr.MemberGlobalOptOut, gdpr.SourceKindInvitation)
	// Issue 21: Mailjet refused the invitation's address; nothing reached the contact.
	add(gdpr.MemberOptInInvitationSent, gdpr.MemberOptInInvitationFailed, gdpr.SourceKindMailjet)
	// Blog pop-in verification.
	add(gdpr.MemberOptInBlogPending, gdpr.MemberOptInBlogVerified, gdpr.SourceKindPopin)
	// Sync updates (R-CONSENT-4). (R-RET-8 is no transition: Contact.MarkPreGDPR.)
	add(gdpr.MemberOptInNew, gdpr.MemberOptInFromBrand, gdpr.SourceKindSync)
	add(gdpr.MemberOptInFromBrand, gdpr.MemberOptInNew, gdpr.SourceKindSync)
	// R-MAIL-5: a Mailjet unsubscribe from every value that is not already an opt-out.
	for _, v := range []gdpr.MemberOptIn{gdpr.MemberOptInNew, gdpr.MemberOptInInvitationSent,
		gdpr.MemberOptInInvitationFailed, gdpr.MemberOptInInvitationAccepted, gdpr.MemberSocialMediaOnly, gdpr.MemberOptInFromBrand,
		gdpr.MemberOptInBlogPending, gdpr.MemberOptInBlogVerified, gdpr.MemberOptInInternalForm,
		gdpr.MemberOptInExternalForm, gdpr.MemberOptInFromOrder, gdpr.MemberOptInFromOrderPopin,
		gdpr.MemberOptInOther, gdpr.MemberStorageOnly} {
		add(v, gdpr.MemberOptOutFromEmail, gdpr.SourceKindMailjet)
	}
	// R-MAIL-4: the blacklist's global opt-out reaches every copy, from every other value.
	for _, v := range gdpr.MemberOptIns() {
		if v != gdpr.MemberGlobalOptOut {
			add(v, gdpr.MemberGlobalOptOut, gdpr.SourceKindSystem)
		}
	}
	return m
}

func expectedBrand() map[string]bool {
	m := map[string]bool{}
	add := func(from, to gdpr.BrandOptIn, by gdpr.ConsentSourceKind) { m[key(string(from), string(to), by)] = true }
	add("", gdpr.BrandOptInDatabase, gdpr.SourceKindOrder)    // R-CONSENT-3
	add("", gdpr.BrandOptInStorageOnly, gdpr.SourceKindOrder) // R-CONSENT-3
	add("", gdpr.BrandOptInDatabase, gdpr.SourceKindSync)     // R-CONSENT-4
	add("", gdpr.BrandOptInStorageOnly, gdpr.SourceKindSync)  // R-CONSENT-4
	add("", gdpr.BrandOptInNone, gdpr.SourceKindMember)
	add("", gdpr.BrandOptInNone, gdpr.SourceKindPopin)
	add(gdpr.BrandOptInNone, gdpr.BrandOptInBlog, gdpr.SourceKindPopin)
	add(gdpr.BrandOptInStorageOnly, gdpr.BrandOptInDatabase, gdpr.SourceKindSync)
	add(gdpr.BrandOptInDatabase, gdpr.BrandOptInNone, gdpr.SourceKindSync) // R-CONSENT-4: withdrawn at the brand
	add(gdpr.BrandOptInNone, gdpr.BrandOptInDatabase, gdpr.SourceKindSync) // R-CONSENT-4: imported again
	return m
}

// Every (from, to, source kind) of the Member opt-in: 19 froms (the guide's 17 values, the
// product's "invitation failed" and "" before creation) × 18 values × 8 kinds. Each is
// allowed or refused exactly as the table says.
func TestRConsent1MemberOptInEveryTransition(t *testing.T) {
	require.Len(t, gdpr.MemberOptIns(), 18)
	want := expectedMember()
	froms := append([]gdpr.MemberOptIn{""}, gdpr.MemberOptIns()...)
	seen := 0
	for _, from := range froms {
		for _, to := range gdpr.MemberOptIns() {
			for _, by := range allKinds {
				k := key(string(from), string(to), by)
				allowed := want[k]
				require.Equal(t, allowed || from == to, gdpr.MemberTransitionAllowed(from, to, by), k)

				c := consentContact()
				c.MemberOptIn = gdpr.MemberOptInState{Value: from, At: consentT0}
				at := consentT0.Add(time.Hour)
				err := c.ChangeMemberOptIn(to, src(by), at)
				switch {
				case from == to:
					require.NoError(t, err, k)
					require.Equal(t, consentT0, c.MemberOptIn.At, "%s: a no-op keeps the date of the consent in force", k)
					require.Empty(t, c.History, "%s: a no-op records nothing", k)
				case allowed:
					seen++
					require.NoError(t, err, k)
					require.Equal(t, gdpr.MemberOptInState{Value: to, At: at}, c.MemberOptIn, k)
					require.Equal(t, []gdpr.ConsentChange{{Kind: gdpr.ConsentMember, From: string(from), To: string(to),
						At: at, Source: src(by)}}, c.History, k)
				default:
					require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), k)
					require.Contains(t, err.Error(), string(to), "%s: the refusal names the values", k)
					requireNoPersonalData(t, err.Error())
					require.Equal(t, gdpr.MemberOptInState{Value: from, At: consentT0}, c.MemberOptIn, "%s: refused changes nothing", k)
					require.Empty(t, c.History, k)
				}
			}
		}
	}
	require.Equal(t, len(want), seen, "every expected row is a transition the loop met")
}

// Every (from, to, source kind) of the Brand opt-in: 7 froms × 6 values × 8 kinds.
func TestRConsent2BrandOptInEveryTransition(t *testing.T) {
	require.Len(t, gdpr.BrandOptIns(), 6)
	want := expectedBrand()
	froms := append([]gdpr.BrandOptIn{""}, gdpr.BrandOptIns()...)
	seen := 0
	for _, from := range froms {
		for _, to := range gdpr.BrandOptIns() {
			for _, by := range allKinds {
				k := key(string(from), string(to), by)
				allowed := want[k]
				require.Equal(t, allowed || from == to, gdpr.BrandTransitionAllowed(from, to, by), k)

				c := consentContact()
				c.BrandOptIn = gdpr.BrandOptInState{Value: from, At: consentT0}
				at := consentT0.Add(time.Hour)
				err := c.ChangeBrandOptIn(to, src(by), at)
				switch {
				case from == to:
					require.NoError(t, err, k)
					require.Equal(t, consentT0, c.BrandOptIn.At, k)
					require.Empty(t, c.History, k)
				case allowed:
					seen++
					require.NoError(t, err, k)
					require.Equal(t, gdpr.BrandOptInState{Value: to, At: at}, c.BrandOptIn, k)
					require.Equal(t, []gdpr.ConsentChange{{Kind: gdpr.ConsentBrand, From: string(from), To: string(to),
						At: at, Source: src(by)}}, c.History, k)
				default:
					require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), k)
					require.Contains(t, err.Error(), string(to), k)
					requireNoPersonalData(t, err.Error())
					require.Equal(t, gdpr.BrandOptInState{Value: from, At: consentT0}, c.BrandOptIn, k)
					require.Empty(t, c.History, k)
				}
			}
		}
	}
	require.Equal(t, len(want), seen)
}

// R-RET-4, R-RET-5, R-RET-7: the invitation path of a contact entered by a Member, the second
// invitation a no-op, and the history of every step, dated, in order.
func TestRRet5InvitationPathIsRecordedAndDated(t *testing.T) {
	c := gdpr.Contact{BrandID: "acme", ID: "con-2", MemberID: "m_1"}
	steps := []struct {
		to  gdpr.MemberOptIn
		src gdpr.ConsentSource
		at  time.Time
	}{
		{gdpr.MemberOptInNew, gdpr.ConsentSource{Kind: gdpr.SourceKindMember, Ref: "m_1"}, consentT0},
		{gdpr.MemberOptInInvitationSent, gdpr.ConsentSource{Kind: gdpr.SourceKindInvitation, Ref: "mail_a1"}, consentT0.AddDate(0, 0, 3)},
		{gdpr.MemberOptInInvitationSent, gdpr.ConsentSource{Kind: gdpr.SourceKindSystem, Ref: "mail_a2"}, consentT0.AddDate(0, 0, 18)}, // second invitation
		{gdpr.MemberOptOutNoAction, gdpr.ConsentSource{Kind: gdpr.SourceKindSystem, Ref: "ret_x1"}, consentT0.AddDate(0, 0, 33)},
	}
	for _, s := range steps {
		require.NoError(t, c.ChangeMemberOptIn(s.to, s.src, s.at))
	}
	require.Equal(t, gdpr.MemberOptInState{Value: gdpr.MemberOptOutNoAction, At: consentT0.AddDate(0, 0, 33)}, c.MemberOptIn)
	require.Equal(t, []gdpr.ConsentChange{
		{Kind: gdpr.ConsentMember, From: "", To: "new", At: consentT0, Source: steps[0].src},
		{Kind: gdpr.ConsentMember, From: "new", To: "invitation_sent", At: steps[1].at, Source: steps[1].src},
		{Kind: gdpr.ConsentMember, From: "invitation_sent", To: "opt_out_no_action", At: steps[3].at, Source: steps[3].src},
	}, c.History)
	require.True(t, c.MemberOptIn.Value.EmailHiddenFromMember(), "R-RET-7: opted out, email hidden")

	// Once opted out, no invitation again (the guide keeps it a year so that none is resent).
	err := c.ChangeMemberOptIn(gdpr.MemberOptInInvitationSent, gdpr.ConsentSource{Kind: gdpr.SourceKindInvitation, Ref: "mail_a3"}, consentT0.AddDate(0, 1, 0))
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err))
	require.Len(t, c.History, 3)
}

// R-CONSENT-3: an order with a Brand opt-in creates both consents, each in the history.
func TestRConsent3OrderCreationRecordsBothConsents(t *testing.T) {
	c := consentContact()
	order := gdpr.ConsentSource{Kind: gdpr.SourceKindOrder, Ref: "ord_2026-0042"}
	require.NoError(t, c.ChangeMemberOptIn(gdpr.MemberOptInFromOrder, order, consentT0))
	require.NoError(t, c.ChangeBrandOptIn(gdpr.BrandOptInDatabase, order, consentT0))
	require.Equal(t, []gdpr.ConsentChange{
		{Kind: gdpr.ConsentMember, From: "", To: "opt_in_from_order", At: consentT0, Source: order},
		{Kind: gdpr.ConsentBrand, From: "", To: "from_brand_database", At: consentT0, Source: order},
	}, c.History)

	// The stored proof: the history under consentHistory, values and ids only.
	doc, err := json.Marshal(c.History)
	require.NoError(t, err)
	require.JSONEq(t, `[
	  {"kind":"member","from":"","to":"opt_in_from_order","at":"2026-03-02T09:00:00Z","source":{"kind":"order","ref":"ord_2026-0042"}},
	  {"kind":"brand","from":"","to":"from_brand_database","at":"2026-03-02T09:00:00Z","source":{"kind":"order","ref":"ord_2026-0042"}}]`, string(doc))
	requireNoPersonalData(t, string(doc))
	full, err := json.Marshal(c)
	require.NoError(t, err)
	require.Contains(t, string(full), `"consentHistory":[`)
	empty, err := json.Marshal(gdpr.Contact{})
	require.NoError(t, err)
	require.NotContains(t, string(empty), "consentHistory", "no history, no key")
}

// Art. 7 proof without personal data: a source whose reference is not an id is refused, and
// neither the refusal nor anything recorded carries the reference or the contact's data.
func TestRConsentSourceCarriesNoPersonalData(t *testing.T) {
	for name, s := range map[string]gdpr.ConsentSource{
		"an email as ref":  {Kind: gdpr.SourceKindOrder, Ref: "ada.lovelace@example.test"},
		"a name as ref":    {Kind: gdpr.SourceKindMember, Ref: "Ada Lovelace"},
		"no ref":           {Kind: gdpr.SourceKindSystem},
		"a ref too long":   {Kind: gdpr.SourceKindSync, Ref: strings.Repeat("b", 129)},
		"an unknown kind":  {Kind: "webhook", Ref: "x1"},
		"no kind":          {Ref: "x1"},
		"non-ASCII in ref": {Kind: gdpr.SourceKindSync, Ref: "lovelace\u00e9"},
	} {
		t.Run(name, func(t *testing.T) {
			c := consentContact()
			err := c.ChangeMemberOptIn(gdpr.MemberOptInFromOrder, s, consentT0)
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
			requireNoPersonalData(t, err.Error())
			if s.Ref != "" {
				require.NotContains(t, err.Error(), s.Ref)
			}
			require.Empty(t, c.History)
			require.Equal(t, gdpr.MemberOptIn(""), c.MemberOptIn.Value)

			err = c.ChangeBrandOptIn(gdpr.BrandOptInDatabase, s, consentT0)
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
			require.Empty(t, c.History)
		})
	}
	// The longest id accepted, and every character an id of this service uses.
	c := consentContact()
	require.NoError(t, c.ChangeMemberOptIn(gdpr.MemberOptInFromOrder,
		gdpr.ConsentSource{Kind: gdpr.SourceKindOrder, Ref: strings.Repeat("a", 128)}, consentT0))
	require.NoError(t, c.ChangeBrandOptIn(gdpr.BrandOptInDatabase,
		gdpr.ConsentSource{Kind: gdpr.SourceKindOrder, Ref: "ORD_9-1.2:x"}, consentT0))
}

// A change needs a known value and a date, and an erased contact's consent no longer changes.
func TestRConsent1ChangeNeedsValueDateAndLiveContact(t *testing.T) {
	c := consentContact()
	order := src(gdpr.SourceKindOrder)
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(c.ChangeMemberOptIn("opted_in", order, consentT0)))
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(c.ChangeMemberOptIn("", order, consentT0)))
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(c.ChangeBrandOptIn("yes", order, consentT0)))
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(c.ChangeMemberOptIn(gdpr.MemberOptInFromOrder, order, time.Time{})),
		"R-CONSENT-1: each change records its date")
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(c.ChangeBrandOptIn(gdpr.BrandOptInDatabase, order, time.Time{})),
		"R-CONSENT-2: each change records its date")
	require.Empty(t, c.History)

	c.ErasedAt = consentT0
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(c.ChangeMemberOptIn(gdpr.MemberOptInFromOrder, order, consentT0)))
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(c.ChangeBrandOptIn(gdpr.BrandOptInDatabase, order, consentT0)))
	require.Empty(t, c.History)

	// A value no rule knows, read from an old document, moves nowhere.
	c = consentContact()
	c.MemberOptIn.Value = "legacy_value"
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(c.ChangeMemberOptIn(gdpr.MemberOptOutFromEmail, src(gdpr.SourceKindMailjet), consentT0)))
}

// The history keeps the newest MaxConsentHistory changes, the consent in force last.
func TestRConsentHistoryIsBounded(t *testing.T) {
	c := consentContact()
	sync := gdpr.ConsentSource{Kind: gdpr.SourceKindSync, Ref: "batch_0"}
	require.NoError(t, c.ChangeMemberOptIn(gdpr.MemberOptInNew, sync, consentT0))
	values := [2]gdpr.MemberOptIn{gdpr.MemberOptInFromBrand, gdpr.MemberOptInNew}
	n := 3 * gdpr.MaxConsentHistory / 2
	for i := 1; i <= n; i++ {
		sync.Ref = fmt.Sprintf("batch_%d", i)
		require.NoError(t, c.ChangeMemberOptIn(values[(i-1)%2], sync, consentT0.Add(time.Duration(i)*time.Minute)))
	}
	require.Len(t, c.History, gdpr.MaxConsentHistory)
	last := c.History[len(c.History)-1]
	require.Equal(t, fmt.Sprintf("batch_%d", n), last.Source.Ref)
	require.Equal(t, string(c.MemberOptIn.Value), last.To)
	require.Equal(t, c.MemberOptIn.At, last.At)
	require.Equal(t, fmt.Sprintf("batch_%d", n-gdpr.MaxConsentHistory+1), c.History[0].Source.Ref, "the oldest went first")
}

// R-CONSENT-6: only the opted-in values of R-CONSENT-1 allow mail.
func TestRConsent6AllowsMail(t *testing.T) {
	allow := map[gdpr.MemberOptIn]bool{
		gdpr.MemberOptInInvitationAccepted: true, gdpr.MemberOptInFromBrand: true, gdpr.MemberOptInBlogVerified: true,
		gdpr.MemberOptInInternalForm: true, gdpr.MemberOptInExternalForm: true, gdpr.MemberOptInFromOrder: true,
		gdpr.MemberOptInFromOrderPopin: true, gdpr.MemberOptInOther: true,
	}
	for _, v := range gdpr.MemberOptIns() {
		require.Equal(t, allow[v], v.AllowsMail(), v)
		if v.OptedOut() {
			require.False(t, v.AllowsMail(), "R-RET-7: %s is blocked", v)
		}
	}
	for _, v := range []gdpr.MemberOptIn{"", "opted_in", "NEW"} {
		require.False(t, v.AllowsMail(), "unknown %q: no mail", v)
	}
}

// R-ACCESS-1: a Brand sees every Brand opt-in but "none", "storage only" included.
func TestRAccess1VisibleToBrand(t *testing.T) {
	for _, v := range gdpr.BrandOptIns() {
		require.Equal(t, v != gdpr.BrandOptInNone, v.VisibleToBrand(), v)
	}
	require.True(t, gdpr.BrandOptInStorageOnly.VisibleToBrand())
	for _, v := range []gdpr.BrandOptIn{"", "yes", "NONE"} {
		require.False(t, v.VisibleToBrand(), "unknown %q: hidden", v)
	}
}

// R-RET-7: the opted-out contacts' email is hidden from the Member, and only theirs.
func TestRRet7EmailHiddenFromMember(t *testing.T) {
	hidden := map[gdpr.MemberOptIn]bool{gdpr.MemberOptInInvitationDeclined: true, gdpr.MemberOptOutFromEmail: true,
		gdpr.MemberOptOutNoAction: true, gdpr.MemberGlobalOptOut: true}
	for _, v := range gdpr.MemberOptIns() {
		require.Equal(t, hidden[v], v.EmailHiddenFromMember(), v)
	}
	require.True(t, gdpr.MemberOptIn("legacy_value").EmailHiddenFromMember(), "unknown: hidden")
}

// Issue #14: the values appear in JSON as snake_case names of R-CONSENT-1/2.
func TestRConsent1And2SnakeCaseJSONNames(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	var member []string
	for _, v := range gdpr.MemberOptIns() {
		require.True(t, v.Valid(), v)
		b, err := json.Marshal(gdpr.MemberOptInState{Value: v, At: consentT0})
		require.NoError(t, err)
		require.Contains(t, string(b), `"value":"`+string(v)+`"`)
		require.Regexp(t, snake, string(v))
		member = append(member, string(v))
	}
	require.Equal(t, []string{"new", "invitation_sent", "invitation_failed", "invitation_accepted", "invitation_declined",
		"opt_out_from_email", "opt_out_no_action", "global_opt_out", "social_media_only", "opt_in_from_brand",
		"opt_in_blog_popin_pending", "opt_in_blog_popin_verified", "opt_in_internal_form", "opt_in_external_form",
		"opt_in_from_order", "opt_in_from_order_popin", "other_opt_in", "storage_only"}, member)

	var brand []string
	for _, v := range gdpr.BrandOptIns() {
		require.True(t, v.Valid(), v)
		b, err := json.Marshal(gdpr.BrandOptInState{Value: v, At: consentT0})
		require.NoError(t, err)
		require.Contains(t, string(b), `"value":"`+string(v)+`"`)
		require.Regexp(t, snake, string(v))
		brand = append(brand, string(v))
	}
	require.Equal(t, []string{"none", "from_blog", "from_internal_form", "from_external_form", "from_brand_database", "storage_only"}, brand)

	for _, k := range allKinds {
		require.Regexp(t, snake, string(k))
	}
}

// requireNoPersonalData checks a message or a record against consentContact's personal data.
func requireNoPersonalData(t *testing.T, s string) {
	t.Helper()
	for _, pd := range []string{"ada", "Ada", "lovelace", "Lovelace", "example.test", "123456789", "@"} {
		require.NotContains(t, s, pd)
	}
}
