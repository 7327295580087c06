package gdpr_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// refusedAddress is what the Mailjet adapter returns when Mailjet refuses the recipient's
// address (mj-0013, related to To[0].Email).
var refusedAddress = fmt.Errorf("mailjet send: status 400 mj-0013 (To[0].Email): %w", gdpr.ErrRecipientRefused)

// invitedContact stores a contact of member whose invitation is on its way.
func (w *mailWorld) invitedContact(t *testing.T, member gdpr.User) gdpr.Contact {
	t.Helper()
	now := w.clock.Now()
	c := gdpr.Contact{BrandID: "acme", ID: gdpr.NewID("c_", now), MemberID: member.ID, Email: fmt.Sprintf("fran.%d@example.test", now.UnixNano()),
		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInInvitationSent, At: now}, BrandOptIn: gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: now},
		Source: gdpr.SourceManual, CreatedAt: now, InvitationSentAt: now}
	w.clock.Advance(time.Millisecond)
	c, err := w.store.CreateContact(t.Context(), c)
	require.NoError(t, err)
	return c
}

func invitationJob(id string, c gdpr.Contact) []byte {
	return fmt.Appendf(nil, `{"id":%q,"brandId":"acme","kind":"contact_invitation","userId":%q,"contactId":%q}`, id, c.MemberID, c.ID)
}

// TestRefusedAddressMarksTheMember_R_MAIL_3: a mail whose address the provider refused for
// good marks its member "undeliverable" (issue 21), which stops the next mail (R-MAIL-3); the
// job is still dead-lettered, and its redelivery asks nothing again and changes nothing.
func TestRefusedAddressMarksTheMember_R_MAIL_3(t *testing.T) {
	w := newMailWorld(t)
	u := w.member(t, nil)
	w.mailer.fail = refusedAddress
	refusedAt := w.clock.Now()
	require.ErrorIs(t, w.svc.HandleMailJob(t.Context(), job("mail_r1", u.ID)), gdpr.ErrUndeliverable)
	got, err := w.store.GetUser(t.Context(), "acme", u.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.EmailUndeliverable, got.EmailStatus)
	require.True(t, refusedAt.Equal(got.EmailStatusAt), "dated when refused")

	w.mailer.fail = nil
	w.clock.Advance(time.Hour)
	require.ErrorIs(t, w.svc.HandleMailJob(t.Context(), job("mail_r1", u.ID)), gdpr.ErrUndeliverable, "redelivered: still refused")
	again, err := w.store.GetUser(t.Context(), "acme", u.ID)
	require.NoError(t, err)
	require.True(t, refusedAt.Equal(again.EmailStatusAt), "a redelivery re-dates nothing")
	require.NoError(t, w.svc.HandleMailJob(t.Context(), job("mail_r2", u.ID)), "a suppressed mail is no failure")
	require.Zero(t, w.mailer.count(), "R-MAIL-3: nothing more goes to the refused address")
}

// TestRefusalOfSomethingElseMarksNobody: a refusal for good that is not the address's
// (the sender, the template, the keys) dead-letters the job and leaves the subject
// deliverable: the fix is the operator's, and the member's mail must resume after it.
func TestRefusalOfSomethingElseMarksNobody(t *testing.T) {
	w := newMailWorld(t)
	u := w.member(t, nil)
	m := w.member(t, nil)
	c := w.invitedContact(t, m)
	w.mailer.fail = fmt.Errorf("mailjet send: status 403 send-0008 (From): %w", gdpr.ErrUndeliverable)
	require.ErrorIs(t, w.svc.HandleMailJob(t.Context(), job("mail_s1", u.ID)), gdpr.ErrUndeliverable)
	require.ErrorIs(t, w.svc.HandleMailJob(t.Context(), invitationJob("mail_s2", c)), gdpr.ErrUndeliverable)
	got, err := w.store.GetUser(t.Context(), "acme", u.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.EmailOK, got.EmailStatus)
	gc, err := w.store.GetContact(t.Context(), "acme", c.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.EmailOK, gc.EmailStatus)
	require.Equal(t, gdpr.MemberOptInInvitationSent, gc.MemberOptIn.Value)
}

// TestRefusedInvitationFails_R_RET_4: an invitation the provider refused shows "invitation
// failed", dated and proven by the job's id, with the email status "undeliverable"; nothing
// reached the contact, so R-RET-4 erases it 30 days later, as a contact never invited.
func TestRefusedInvitationFails_R_RET_4(t *testing.T) {
	w := newMailWorld(t)
	c := w.invitedContact(t, w.member(t, nil))
	w.mailer.fail = refusedAddress
	refusedAt := w.clock.Now()
	require.ErrorIs(t, w.svc.HandleMailJob(t.Context(), invitationJob("mail_i1", c)), gdpr.ErrUndeliverable)

	got, err := w.store.GetContact(t.Context(), "acme", c.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.MemberOptInState{Value: gdpr.MemberOptInInvitationFailed, At: refusedAt}, got.MemberOptIn)
	require.Equal(t, gdpr.EmailUndeliverable, got.EmailStatus)
	require.Equal(t, gdpr.ConsentChange{Kind: gdpr.ConsentMember, From: "invitation_sent", To: "invitation_failed", At: refusedAt,
		Source: gdpr.ConsentSource{Kind: gdpr.SourceKindMailjet, Ref: "mail_i1"}}, got.History[len(got.History)-1])
	b, err := w.brands.GetBrand(t.Context(), "acme")
	require.NoError(t, err)
	a := gdpr.ReviewContact(got, b)
	require.Equal(t, gdpr.ActionErase, a.Kind)
	require.Equal(t, gdpr.RuleNewContact, a.Rule)
	require.True(t, refusedAt.AddDate(0, 0, 30).Equal(a.At), "30 days after the refusal: %s", a.At)
	require.True(t, a.At.Equal(got.NextReviewAt), "the due index follows")

	w.mailer.fail = nil
	require.ErrorIs(t, w.svc.HandleMailJob(t.Context(), invitationJob("mail_i1", c)), gdpr.ErrUndeliverable)
	again, err := w.store.GetContact(t.Context(), "acme", c.ID)
	require.NoError(t, err)
	require.Len(t, again.History, len(got.History), "a redelivery records nothing")
	require.Zero(t, w.mailer.count())
}

// TestRefusedReminderKeepsTheAnswerGivenMeanwhile: the contact answers the first invitation
// while the provider refuses the reminder. The answer stands; the address is marked.
func TestRefusedReminderKeepsTheAnswerGivenMeanwhile(t *testing.T) {
	w := newMailWorld(t)
	c := w.invitedContact(t, w.member(t, nil))
	w.mailer.fail = refusedAddress
	w.mailer.during = func(gdpr.Mail) {
		cur, err := w.store.GetContact(t.Context(), "acme", c.ID)
		require.NoError(t, err)
		require.NoError(t, cur.ChangeMemberOptIn(gdpr.MemberOptInInvitationAccepted, gdpr.ConsentSource{Kind: gdpr.SourceKindInvitation, Ref: "mail_first"}, w.clock.Now()))
		_, err = w.store.UpdateContact(t.Context(), cur)
		require.NoError(t, err)
	}
	require.ErrorIs(t, w.svc.HandleMailJob(t.Context(), invitationJob("mail_reminder", c)), gdpr.ErrUndeliverable)
	got, err := w.store.GetContact(t.Context(), "acme", c.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.MemberOptInInvitationAccepted, got.MemberOptIn.Value)
	require.Equal(t, gdpr.EmailUndeliverable, got.EmailStatus)
}

// TestRefusedOldAddressLeavesTheNewOne: the member's identity provider changed the address
// while the provider refused the old one; the new address is not the one refused.
func TestRefusedOldAddressLeavesTheNewOne(t *testing.T) {
	w := newMailWorld(t)
	u := w.member(t, nil)
	w.mailer.fail = refusedAddress
	w.mailer.during = func(gdpr.Mail) {
		cur, err := w.store.GetUser(t.Context(), "acme", u.ID)
		require.NoError(t, err)
		cur.Email = "renamed." + cur.Email
		_, err = w.store.UpdateUser(t.Context(), cur)
		require.NoError(t, err)
	}
	require.ErrorIs(t, w.svc.HandleMailJob(t.Context(), job("mail_o1", u.ID)), gdpr.ErrUndeliverable)
	got, err := w.store.GetUser(t.Context(), "acme", u.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.EmailOK, got.EmailStatus)
}
