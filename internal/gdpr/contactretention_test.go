package gdpr_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

const day = 24 * time.Hour

type contactRetentionWorld struct {
	*contactWorld
	retention *gdpr.ContactRetentionService
}

func newContactRetentionWorld(t *testing.T) *contactRetentionWorld {
	t.Helper()
	w := &contactRetentionWorld{contactWorld: newContactWorld(t)}
	w.retention = w.svc.all.ContactRetention
	w.takeJobs() // the members' own jobs are not this test's
	return w
}

// takeJobs returns and forgets the jobs published so far, by queue.
func (w *contactRetentionWorld) takeJobs() (mail, erasure []gdpr.Message) {
	w.queue.mu.Lock()
	defer w.queue.mu.Unlock()
	for _, m := range w.queue.msgs {
		if strings.HasPrefix(m.ID, "erase:") {
			erasure = append(erasure, m)
		} else {
			mail = append(mail, m)
		}
	}
	w.queue.msgs = nil
	return mail, erasure
}

// sweepAt moves the clock to at, sweeps the brand's contacts and runs the erasure jobs that
// came out of it, as the worker would at their due time. It returns the mail jobs.
func (w *contactRetentionWorld) sweepAt(t *testing.T, at time.Time) (gdpr.SweepStats, []gdpr.Message) {
	t.Helper()
	w.clock.Set(at)
	b, err := w.store.GetBrand(t.Context(), "acme")
	require.NoError(t, err)
	st, err := w.retention.SweepBrand(t.Context(), b)
	require.NoError(t, err)
	mail, erasures := w.takeJobs()
	for _, m := range erasures {
		require.False(t, m.NotBefore.After(at), "an erasure job is due when published")
		require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), m.Body))
	}
	return st, mail
}

func (w *contactRetentionWorld) contact(t *testing.T, id string) gdpr.Contact {
	t.Helper()
	c, err := w.store.GetContact(t.Context(), "acme", id)
	require.NoError(t, err)
	return c
}

// put stores a contact as an import of another system would have left it, with its due index.
func (w *contactRetentionWorld) put(t *testing.T, c gdpr.Contact) gdpr.Contact {
	t.Helper()
	b, err := w.store.GetBrand(t.Context(), "acme")
	require.NoError(t, err)
	c.BrandID, c.MemberID = "acme", w.members[0]
	c.NextReviewAt = gdpr.NextContactReview(c, b)
	out, err := w.store.CreateContact(t.Context(), c)
	require.NoError(t, err)
	return out
}

func (w *contactRetentionWorld) requireErasedBy(t *testing.T, id, rule string) {
	t.Helper()
	c := w.contact(t, id)
	require.True(t, c.Erased(), "erased under %s", rule)
	require.True(t, w.hasher.IsDigest(c.Email), "R-ERASE-3: the address hashed")
	require.Empty(t, c.FirstName)
	require.True(t, c.NextReviewAt.IsZero(), "an erased contact leaves the due index")
	recs, err := w.store.ListErasures(t.Context(), "acme", "", 100)
	require.NoError(t, err)
	var found int
	for _, r := range recs {
		if r.SubjectID == id {
			found++
			require.Equal(t, rule, r.Rule)
			require.Equal(t, gdpr.SubjectContact, r.SubjectKind)
		}
	}
	require.Equal(t, 1, found, "R-ERASE-9: one audit record")
}

// TestRRet4NewContactWithoutInvitationIsErasedAfter30Days: a contact a Member entered and never
// invited stays 29 days, is erased on the 30th, and its address may then be entered again.
func TestRRet4NewContactWithoutInvitationIsErasedAfter30Days(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	res, err := w.contacts.CreateManual(t.Context(), "acme", w.members[0], gdpr.ManualContact{Email: "friend@example.test", FirstName: "Fran"})
	require.NoError(t, err)

	st, _ := w.sweepAt(t, t0.Add(29*day))
	require.Zero(t, st.Due, "not due: the index is O(due), nothing read")
	require.False(t, w.contact(t, res.ContactID).Erased())

	st, _ = w.sweepAt(t, t0.Add(30*day))
	require.Equal(t, 1, st.Erasures)
	w.requireErasedBy(t, res.ContactID, gdpr.RuleNewContact)

	// A redelivered job changes nothing and writes no second record.
	job, _ := json.Marshal(gdpr.ErasureJob{BrandID: "acme", SubjectKind: gdpr.SubjectContact, SubjectID: res.ContactID, Rule: gdpr.RuleNewContact})
	require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), job))
	w.requireErasedBy(t, res.ContactID, gdpr.RuleNewContact)

	again, err := w.contacts.CreateManual(t.Context(), "acme", w.members[0], gdpr.ManualContact{Email: "friend@example.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualContactCreated, again.Outcome, "the member's claim on the address is released")
}

// TestRRet5InvitationRemindedThenExpiredThenRRet7Erased: 15 days after an invitation the
// second one goes out automatically, once; 15 more days without answer set "opt-out no
// action", proven by the rule; a year later the opted-out contact is erased (R-RET-7).
func TestRRet5InvitationRemindedThenExpiredThenRRet7Erased(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	res, err := w.contacts.CreateManual(t.Context(), "acme", w.members[0], gdpr.ManualContact{Email: "friend@example.test"})
	require.NoError(t, err)
	w.clock.Set(t0.Add(10 * day))
	_, err = w.contacts.Invite(t.Context(), "acme", w.members[0], res.ContactID)
	require.NoError(t, err)
	w.takeJobs()
	invitedAt := w.clock.Now()

	st, mail := w.sweepAt(t, t0.Add(40*day)) // 30 days after creation: no longer new, not erased
	require.Zero(t, st.Erasures, "an invited contact is not erased by R-RET-4")
	require.Len(t, mail, 1, "15 days after the invitation: the second one")
	var job gdpr.MailJob
	require.NoError(t, json.Unmarshal(mail[0].Body, &job))
	require.Equal(t, gdpr.MailJob{ID: mail[0].ID, BrandID: "acme", Kind: gdpr.MailContactInvitation, UserID: w.members[0], ContactID: res.ContactID}, job)
	require.Equal(t, gdpr.MemberOptInInvitationSent, w.contact(t, res.ContactID).MemberOptIn.Value)

	_, mail = w.sweepAt(t, t0.Add(41*day))
	require.Empty(t, mail, "the second invitation goes once")

	reminded := t0.Add(40 * day)
	_, _ = w.sweepAt(t, reminded.Add(15*day-time.Second))
	require.Equal(t, gdpr.MemberOptInInvitationSent, w.contact(t, res.ContactID).MemberOptIn.Value)
	_, _ = w.sweepAt(t, reminded.Add(15*day))
	c := w.contact(t, res.ContactID)
	require.Equal(t, gdpr.MemberOptOutNoAction, c.MemberOptIn.Value)
	last := c.History[len(c.History)-1]
	require.Equal(t, gdpr.ConsentSource{Kind: gdpr.SourceKindSystem, Ref: gdpr.RuleInvitationPending}, last.Source)
	require.True(t, c.MemberOptIn.At.Equal(reminded.Add(15*day)), "the opt-out is dated")
	require.True(t, c.MemberOptIn.Value.OptedOut())
	require.True(t, invitedAt.Before(c.MemberOptIn.At))

	optedOut := c.MemberOptIn.At
	_, _ = w.sweepAt(t, optedOut.AddDate(1, 0, 0).Add(-time.Second))
	require.False(t, w.contact(t, res.ContactID).Erased(), "kept until the year is over")
	_, _ = w.sweepAt(t, optedOut.AddDate(1, 0, 0))
	w.requireErasedBy(t, res.ContactID, gdpr.RuleOptedOutContact)
}

// TestRRet7GlobalOptOutErasedAfterAYearDigestStays: the contact goes, the blacklist entry that
// keeps its address from ever being mailed again stays.
func TestRRet7GlobalOptOutErasedAfterAYearDigestStays(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	digest := w.hasher.EmailDigest("gone@example.test")
	require.NoError(t, w.store.PutBlacklist(t.Context(), gdpr.BlacklistEntry{BrandID: "acme", Digest: digest,
		Reason: gdpr.BlacklistGlobalOptOut, CreatedAt: t0}))
	c := w.put(t, gdpr.Contact{ID: "c_gone", Email: "gone@example.test", FirstName: "Gina", CreatedAt: t0.Add(-day),
		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberGlobalOptOut, At: t0}, BrandOptIn: gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: t0}})
	_, _ = w.sweepAt(t, t0.AddDate(1, 0, 0).Add(-time.Second))
	require.False(t, w.contact(t, c.ID).Erased())
	_, _ = w.sweepAt(t, t0.AddDate(1, 0, 0))
	w.requireErasedBy(t, c.ID, gdpr.RuleOptedOutContact)
	_, err := w.store.GetBlacklist(t.Context(), "acme", digest)
	require.NoError(t, err, "the digest stays in the blacklist")
}

// TestRRet6PendingConfirmationErasedAfter15Days: a blog pop-in opt-in whose address was never
// verified goes after 15 days.
func TestRRet6PendingConfirmationErasedAfter15Days(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	c := w.put(t, gdpr.Contact{ID: "c_blog", Email: "reader@example.test", CreatedAt: t0,
		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInBlogPending, At: t0}, BrandOptIn: gdpr.BrandOptInState{Value: gdpr.BrandOptInBlog, At: t0}})
	_, _ = w.sweepAt(t, t0.Add(15*day-time.Second))
	require.False(t, w.contact(t, c.ID).Erased())
	_, _ = w.sweepAt(t, t0.Add(15*day))
	w.requireErasedBy(t, c.ID, gdpr.RulePendingConfirmation)
}

// TestRRet3InactiveContactErasedAfter3Years: an order's contact with an opt-in is kept while it
// interacts; three years after its last click it is erased. The worker decides again: a click
// between the sweep and the job keeps the contact.
func TestRRet3InactiveContactErasedAfter3Years(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	res, err := w.contacts.RecordOrder(t.Context(), "acme", order("o-1", w.members[0], "cleo@example.test", true))
	require.NoError(t, err)

	mark := t0.AddDate(3, 0, 0)
	w.clock.Set(mark)
	b, err := w.store.GetBrand(t.Context(), "acme")
	require.NoError(t, err)
	_, err = w.retention.SweepBrand(t.Context(), b)
	require.NoError(t, err)
	_, erasures := w.takeJobs()
	require.Len(t, erasures, 1)
	// A click lands before the worker runs the job.
	c := w.contact(t, res.ContactID)
	c.LastActivityAt = mark
	c.NextReviewAt = gdpr.NextContactReview(c, b)
	_, err = w.store.UpdateContact(t.Context(), c)
	require.NoError(t, err)
	require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), erasures[0].Body))
	require.False(t, w.contact(t, res.ContactID).Erased(), "the click counts: no longer due")

	_, _ = w.sweepAt(t, mark.AddDate(3, 0, 0).Add(-time.Second))
	require.False(t, w.contact(t, res.ContactID).Erased())
	_, _ = w.sweepAt(t, mark.AddDate(3, 0, 0))
	w.requireErasedBy(t, res.ContactID, gdpr.RuleContactInactivity)
}

// TestRRet8ContactsRecordedBeforeGDPR: a pre-2018-05-25 contact with activity history is
// assumed to have opted in, proven by the rule, then judged by its activity (R-RET-3); one
// without is treated as new from its import (R-RET-4).
func TestRRet8ContactsRecordedBeforeGDPR(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	old := time.Date(2017, 3, 1, 0, 0, 0, 0, time.UTC)
	active := w.put(t, gdpr.Contact{ID: "c_active", Email: "old@example.test", CreatedAt: old, LastActivityAt: t0.Add(-day),
		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInNew, At: t0}, BrandOptIn: gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: t0}})
	quiet := w.put(t, gdpr.Contact{ID: "c_quiet", Email: "quiet@example.test", CreatedAt: old,
		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInNew, At: t0}, BrandOptIn: gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: t0}})

	_, _ = w.sweepAt(t, t0)
	c := w.contact(t, active.ID)
	require.Equal(t, gdpr.MemberOptInOther, c.MemberOptIn.Value, "opt-in assumed")
	require.Equal(t, gdpr.ConsentSource{Kind: gdpr.SourceKindSystem, Ref: gdpr.RuleLegacyContact}, c.History[len(c.History)-1].Source)
	require.Equal(t, gdpr.MemberOptInNew, w.contact(t, quiet.ID).MemberOptIn.Value)

	_, _ = w.sweepAt(t, t0.Add(30*day))
	w.requireErasedBy(t, quiet.ID, gdpr.RuleNewContact)
	require.False(t, w.contact(t, active.ID).Erased())
	_, _ = w.sweepAt(t, t0.Add(-day).AddDate(3, 0, 0))
	w.requireErasedBy(t, active.ID, gdpr.RuleContactInactivity)
}

// TestContactRetentionDurationsPerBrand (R-TEN-2): a brand that gives new contacts 10 days
// erases them on the 10th; the sweep re-indexes one a brand lengthened.
func TestContactRetentionDurationsPerBrand(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	_, _, err := w.svc.brands.PutBrand(t.Context(), "acme", gdpr.BrandSettings{Name: "Acme", SSOExclusive: true,
		Contacts: gdpr.ContactSettings{ManualEntry: true}, Retention: gdpr.Retention{NewContactInvitation: gdpr.Period{Days: 10}}})
	require.NoError(t, err)
	res, err := w.contacts.CreateManual(t.Context(), "acme", w.members[0], gdpr.ManualContact{Email: "friend@example.test"})
	require.NoError(t, err)
	require.True(t, w.contact(t, res.ContactID).NextReviewAt.Equal(t0.Add(10*day)))

	_, _, err = w.svc.brands.PutBrand(t.Context(), "acme", gdpr.BrandSettings{Name: "Acme", SSOExclusive: true,
		Retention: gdpr.Retention{NewContactInvitation: gdpr.Period{Days: 20}}})
	require.NoError(t, err)
	st, _ := w.sweepAt(t, t0.Add(10*day))
	require.Equal(t, gdpr.SweepStats{Due: 1}, st, "lengthened: not due, re-indexed")
	require.True(t, w.contact(t, res.ContactID).NextReviewAt.Equal(t0.Add(20*day)))
	_, _ = w.sweepAt(t, t0.Add(20*day))
	w.requireErasedBy(t, res.ContactID, gdpr.RuleNewContact)
}

// TestContactMailEvents (R-CONSENT-1, R-CONSENT-6, R-RET-3): what each provider event does to a
// contact, and that a replay or an unknown contact changes nothing.
func TestContactMailEvents(t *testing.T) {
	w := newContactRetentionWorld(t)
	ctx := t.Context()
	t0 := w.clock.Now()
	newInvited := func(email string) string {
		res, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: email})
		require.NoError(t, err)
		_, err = w.contacts.Invite(ctx, "acme", w.members[0], res.ContactID)
		require.NoError(t, err)
		return res.ContactID
	}
	at := t0.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		events []gdpr.ContactMailEvent
		optIn  gdpr.MemberOptIn
		status gdpr.EmailStatus
		click  bool
	}{
		{"unsub", []gdpr.ContactMailEvent{{Kind: gdpr.MailEventUnsub}}, gdpr.MemberOptOutFromEmail, gdpr.EmailOK, false},
		{"click", []gdpr.ContactMailEvent{{Kind: gdpr.MailEventClick}}, gdpr.MemberOptInInvitationSent, gdpr.EmailOK, true},
		{"open_is_no_activity", []gdpr.ContactMailEvent{{Kind: gdpr.MailEventOpen}}, gdpr.MemberOptInInvitationSent, gdpr.EmailOK, false},
		{"hard_bounce", []gdpr.ContactMailEvent{{Kind: gdpr.MailEventBounce, Permanent: true}}, gdpr.MemberOptInInvitationSent, gdpr.EmailHardBounce, false},
		{"soft_bounce", []gdpr.ContactMailEvent{{Kind: gdpr.MailEventBounce}}, gdpr.MemberOptInInvitationSent, gdpr.EmailSoftBounce, false},
		{"soft_after_hard_stays_hard", []gdpr.ContactMailEvent{{Kind: gdpr.MailEventBounce, Permanent: true}, {Kind: gdpr.MailEventBounce}}, gdpr.MemberOptInInvitationSent, gdpr.EmailHardBounce, false},
		{"spam", []gdpr.ContactMailEvent{{Kind: gdpr.MailEventSpam}}, gdpr.MemberOptInInvitationSent, gdpr.EmailSpam, false},
		{"block_blamed_on_sender", []gdpr.ContactMailEvent{{Kind: gdpr.MailEventBlocked}}, gdpr.MemberOptInInvitationSent, gdpr.EmailOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newInvited(tc.name + "@example.test")
			for i := range tc.events {
				tc.events[i].ContactID, tc.events[i].JobID, tc.events[i].At = id, "inv_job_1", at
			}
			_, err := w.contacts.ApplyMailEvents(ctx, "acme", tc.events)
			require.NoError(t, err)
			again, err := w.contacts.ApplyMailEvents(ctx, "acme", tc.events)
			require.NoError(t, err)
			require.Zero(t, again, "a replay changes nothing")
			c := w.contact(t, id)
			require.Equal(t, tc.optIn, c.MemberOptIn.Value)
			require.Equal(t, tc.status, c.EmailStatus)
			require.Equal(t, tc.click, c.LastActivityAt.Equal(at))
		})
	}
	n, err := w.contacts.ApplyMailEvents(ctx, "acme", []gdpr.ContactMailEvent{{ContactID: "c_unknown", Kind: gdpr.MailEventUnsub, JobID: "j", At: at}})
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestContactMailEventsTimesNoCalendarHolds (R-RET-3, R-CONSENT-1, issue 24): a click dated
// in the far future or before Mailjet existed is skipped, so it never postpones the contact's
// retention; one of year 10000 or of a negative year fails nothing; an unsubscribe without a
// time is applied at now rather than lost.
func TestContactMailEventsTimesNoCalendarHolds(t *testing.T) {
	w := newContactRetentionWorld(t)
	ctx := t.Context()
	newInvited := func(email string) string {
		res, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: email})
		require.NoError(t, err)
		_, err = w.contacts.Invite(ctx, "acme", w.members[0], res.ContactID)
		require.NoError(t, err)
		return res.ContactID
	}
	clicked := newInvited("clicker@example.test")
	before := w.contact(t, clicked)
	for _, at := range []time.Time{
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Unix(253402300800, 0).UTC(), // year 10000
		time.Unix(-62198755200, 0).UTC(), // year -1
		time.Unix(0, 0).UTC(),            // before Mailjet
		w.clock.Now().Add(2 * time.Hour), // past the skew
		{},                               // no time
	} {
		n, err := w.contacts.ApplyMailEvents(ctx, "acme", []gdpr.ContactMailEvent{{ContactID: clicked, JobID: "inv_job_1", Kind: gdpr.MailEventClick, At: at}})
		require.NoError(t, err, "%v", at)
		require.Zero(t, n, "%v", at)
	}
	require.True(t, w.contact(t, clicked).LastActivityAt.Equal(before.LastActivityAt), "R-RET-3: retention is not postponed")
	require.True(t, w.contact(t, clicked).NextReviewAt.Equal(before.NextReviewAt))

	// Mailjet's clock a little ahead of ours: still activity.
	ahead := w.clock.Now().Add(30 * time.Minute)
	_, err := w.contacts.ApplyMailEvents(ctx, "acme", []gdpr.ContactMailEvent{{ContactID: clicked, Kind: gdpr.MailEventClick, At: ahead}})
	require.NoError(t, err)
	require.True(t, w.contact(t, clicked).LastActivityAt.Equal(ahead))

	for name, at := range map[string]time.Time{"none": {}, "year_10000": time.Unix(253402300800, 0).UTC()} {
		unsub := newInvited("unsub." + name + "@example.test")
		now := w.clock.Now()
		n, err := w.contacts.ApplyMailEvents(ctx, "acme", []gdpr.ContactMailEvent{{ContactID: unsub, JobID: "inv_job_1", Kind: gdpr.MailEventUnsub, At: at}})
		require.NoError(t, err, name)
		require.Equal(t, 1, n, name)
		c := w.contact(t, unsub)
		require.Equal(t, gdpr.MemberOptOutFromEmail, c.MemberOptIn.Value, "%s: an unsubscribe is never lost", name)
		require.True(t, c.MemberOptIn.At.Equal(now), "%s: applied at now (%v)", name, c.MemberOptIn.At)
	}
}

// TestRRet3AnOrderIsActivity: a customer who orders again is not erased three years after its
// first order, but three years after its last.
func TestRRet3AnOrderIsActivity(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	res, err := w.contacts.RecordOrder(t.Context(), "acme", order("o-1", w.members[0], "cleo@example.test", true))
	require.NoError(t, err)
	w.clock.Set(t0.AddDate(2, 0, 0))
	_, err = w.contacts.RecordOrder(t.Context(), "acme", order("o-2", w.members[0], "cleo@example.test", true))
	require.NoError(t, err)
	_, _ = w.sweepAt(t, t0.AddDate(3, 0, 0))
	require.False(t, w.contact(t, res.ContactID).Erased(), "ordered a year ago")
	_, _ = w.sweepAt(t, t0.AddDate(5, 0, 0))
	w.requireErasedBy(t, res.ContactID, gdpr.RuleContactInactivity)
}

// TestContactSweepSkipsAContactChangedMeanwhile: the sweep writes its records in batches; a
// contact that changed between the sweep's read and its write (here a click) makes the batch
// conflict, the others are written one by one, and the changed one keeps its change. The next
// sweep decides for it again, under the same job id, so its second invitation goes once.
func TestContactSweepSkipsAContactChangedMeanwhile(t *testing.T) {
	w := newContactRetentionWorld(t)
	ctx := t.Context()
	t0 := w.clock.Now()
	var ids []string
	for _, email := range []string{"a@example.test", "b@example.test"} {
		res, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: email})
		require.NoError(t, err)
		_, err = w.contacts.Invite(ctx, "acme", w.members[0], res.ContactID)
		require.NoError(t, err)
		ids = append(ids, res.ContactID)
	}
	w.takeJobs()
	remindAt := t0.Add(15 * day)
	click := func() {
		_, err := w.contacts.RecordContactActivity(ctx, "acme", w.members[0], ids[0], gdpr.ContactClick)
		require.NoError(t, err)
	}
	w.store.beforeContacts.Store(&click)

	_, first := w.sweepAt(t, remindAt)
	require.Len(t, first, 2, "both reminders published before the records")
	require.True(t, w.contact(t, ids[1]).InvitationSentAt.Equal(remindAt), "the unchanged one is written")
	changed := w.contact(t, ids[0])
	require.True(t, changed.LastActivityAt.Equal(remindAt), "the click is kept")
	require.True(t, changed.InvitationSentAt.Equal(t0), "its record was skipped")

	_, again := w.sweepAt(t, remindAt)
	require.Len(t, again, 1, "decided again")
	require.Contains(t, []string{first[0].ID, first[1].ID}, again[0].ID, "under the same job id: sent once")
	require.True(t, w.contact(t, ids[0]).InvitationSentAt.Equal(remindAt))
}

// TestRRet5ManualReinviteKeepsTheSystemsSchedule: the schedule belongs to the system (R-RET-5).
// A Member's second invitation of a pending contact changes nothing and mails nothing new; the
// automatic second invitation still goes out on day 15 and the opt-out comes on day 30.
// guide: "A new invitation will automatically be sent after this 15 days period. If still no
// response is received after another 15 days, then the account is marked as opted-out."
func TestRRet5ManualReinviteKeepsTheSystemsSchedule(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	res, err := w.contacts.CreateManual(t.Context(), "acme", w.members[0], gdpr.ManualContact{Email: "friend@example.test"})
	require.NoError(t, err)
	_, err = w.contacts.Invite(t.Context(), "acme", w.members[0], res.ContactID)
	require.NoError(t, err)
	first, _ := w.takeJobs()
	require.Len(t, first, 1)
	before := w.contact(t, res.ContactID)

	for _, at := range []time.Duration{time.Minute, day, 5 * day} {
		w.clock.Set(t0.Add(at))
		got, err := w.contacts.Invite(t.Context(), "acme", w.members[0], res.ContactID)
		require.NoError(t, err, "answered 200 unchanged: a retried request gets the first answer")
		require.Equal(t, before.Version, got.Version, "nothing written")
		after := w.contact(t, res.ContactID)
		require.Equal(t, before.Version, after.Version)
		require.True(t, after.InvitationSentAt.Equal(before.InvitationSentAt), "the schedule did not move")
		mail, _ := w.takeJobs()
		for _, m := range mail {
			require.Equal(t, first[0].ID, m.ID, "only the first invitation's own job, which the queue and the sender send once")
		}
		if at >= day {
			require.Empty(t, mail, "past a day, nothing is published")
		}
	}

	_, mail := w.sweepAt(t, t0.Add(15*day-time.Second))
	require.Empty(t, mail)
	require.Equal(t, gdpr.MemberOptInInvitationSent, w.contact(t, res.ContactID).MemberOptIn.Value)
	_, mail = w.sweepAt(t, t0.Add(15*day))
	require.Len(t, mail, 1, "the automatic second invitation on day 15")
	_, _ = w.sweepAt(t, t0.Add(16*day))
	require.Equal(t, gdpr.MemberOptInInvitationSent, w.contact(t, res.ContactID).MemberOptIn.Value, "not opted out on day 16")
	_, _ = w.sweepAt(t, t0.Add(30*day-time.Second))
	require.Equal(t, gdpr.MemberOptInInvitationSent, w.contact(t, res.ContactID).MemberOptIn.Value)
	_, _ = w.sweepAt(t, t0.Add(30*day))
	require.Equal(t, gdpr.MemberOptOutNoAction, w.contact(t, res.ContactID).MemberOptIn.Value, "opted out on day 30")
}

// TestRRet5And6OneParameterForEveryWait: the invitation's wait, its reminder and the pop-in
// confirmation all follow the brand's one duration (R-RET-5, R-RET-6).
// guide: "Same parameter is used as in previous case for no response received."
func TestRRet5And6OneParameterForEveryWait(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	b := gdpr.Brand{ID: "acme", Status: gdpr.BrandActive}
	b.Retention.InvitationPending = gdpr.Period{Days: 20}
	invited := gdpr.Contact{ID: "c_1", CreatedAt: t0, InvitationSentAt: t0,
		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInInvitationSent, At: t0}}
	a := gdpr.ReviewContact(invited, b)
	require.Equal(t, gdpr.ActionRemind, a.Kind)
	require.True(t, a.At.Equal(t0.Add(20*day)), "the reminder after the wait")
	invited.InvitationSentAt = t0.Add(20 * day)
	a = gdpr.ReviewContact(invited, b)
	require.Equal(t, gdpr.ActionExpire, a.Kind)
	require.True(t, a.At.Equal(t0.Add(40*day)), "the opt-out after another wait")
	pending := gdpr.Contact{ID: "c_2", CreatedAt: t0, MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInBlogPending, At: t0}}
	a = gdpr.ReviewContact(pending, b)
	require.Equal(t, gdpr.ActionErase, a.Kind)
	require.True(t, a.At.Equal(t0.Add(20*day)), "the pop-in confirmation waits as long")
	require.Equal(t, gdpr.Period{Days: 15}, gdpr.DefaultRetention().InvitationPending, "15 days by default")
}

// TestRRet9SyncedContactsFollowTheBrandsRules: a contact synchronised from the brand's
// database is not erased by Popsell's 30-day rule for new contacts (R-RET-4) nor by its
// 3-year rule for inactive ones (R-RET-3); the brand's delete erases it (R-RET-9), and so
// does the contract end (R-ERASE-7, TestRErase7ContractEndErasesSyncedContacts).
// guide: "Contacts are deleted when the delete information is sent by the Brand via the synchronization process (data hashed): data privacy rules from the Brand apply."
func TestRRet9SyncedContactsFollowTheBrandsRules(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	synced := func(id string, v gdpr.MemberOptIn, brand gdpr.BrandOptIn) gdpr.Contact {
		return w.put(t, gdpr.Contact{ID: id, Email: id + "@example.test", FirstName: "Synced", Source: gdpr.SourceBrandSync,
			MemberOptIn: gdpr.MemberOptInState{Value: v, At: t0}, BrandOptIn: gdpr.BrandOptInState{Value: brand, At: t0}, CreatedAt: t0})
	}
	synced("c_sync_new", gdpr.MemberOptInNew, gdpr.BrandOptInStorageOnly)
	synced("c_sync_optin", gdpr.MemberOptInFromBrand, gdpr.BrandOptInDatabase)
	manual := w.put(t, gdpr.Contact{ID: "c_manual", Email: "manual@example.test", FirstName: "Manual", Source: gdpr.SourceManual,
		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInNew, At: t0}, CreatedAt: t0})

	w.sweepAt(t, t0.Add(31*day))
	w.requireErasedBy(t, manual.ID, gdpr.RuleNewContact) // the control: Popsell's rule applies to it
	w.sweepAt(t, t0.AddDate(3, 0, 1))
	for _, id := range []string{"c_sync_new", "c_sync_optin"} {
		c := w.contact(t, id)
		require.False(t, c.Erased(), "R-RET-9: the brand's privacy rules apply to %s", id)
		require.Equal(t, id+"@example.test", c.Email)
	}
}

// TestRRet8PreGDPRContactsWhateverTheirEarlierValue (issue 23, item 17): a contact recorded
// before 2018-05-25, as its import left it (values dated then), is judged by R-RET-8 at the
// first sweep: with an activity history it gets "other opt-in" whatever its earlier value;
// without, it is marked "new", dated when marked, and R-RET-4 runs from then (30 days, not
// from its old date: not erased on arrival). A recorded opt-out is the contact's own refusal
// and stays (R-RET-7).
// guide: "If these contacts have an activity history (e.g. engagement on a social media, email
// clicked …), an opt-in is assigned by default" and "If these contacts have no activity, they
// are marked as “new” and will follow the same process as new contacts."
func TestRRet8PreGDPRContactsWhateverTheirEarlierValue(t *testing.T) {
	w := newContactRetentionWorld(t)
	t0 := w.clock.Now()
	old := time.Date(2017, 3, 1, 0, 0, 0, 0, time.UTC)
	legacy := func(id string, v gdpr.MemberOptIn, activity time.Time) gdpr.Contact {
		return w.put(t, gdpr.Contact{ID: id, Email: id + "@example.test", FirstName: "Old", CreatedAt: old, LastActivityAt: activity,
			MemberOptIn: gdpr.MemberOptInState{Value: v, At: old}, BrandOptIn: gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: old}})
	}
	clicked := t0.Add(-day) // an activity history (R-RET-3 counts 3 years from it)
	activeStorage := legacy("c_active_storage", gdpr.MemberStorageOnly, clicked)
	activeSocial := legacy("c_active_social", gdpr.MemberSocialMediaOnly, clicked)
	quietNew := legacy("c_quiet_new", gdpr.MemberOptInNew, time.Time{})
	quietOther := legacy("c_quiet_other", gdpr.MemberOptInOther, time.Time{})
	optedOut := legacy("c_opted_out", gdpr.MemberOptOutFromEmail, clicked)

	_, _ = w.sweepAt(t, t0)
	for _, id := range []string{activeStorage.ID, activeSocial.ID} {
		c := w.contact(t, id)
		require.Equal(t, gdpr.MemberOptInOther, c.MemberOptIn.Value, "%s: opt-in assumed whatever its earlier value", id)
		require.True(t, c.MemberOptIn.At.Equal(t0), "%s: dated when assigned", id)
		last := c.History[len(c.History)-1]
		require.Equal(t, gdpr.ConsentSource{Kind: gdpr.SourceKindSystem, Ref: gdpr.RuleLegacyContact}, last.Source)
	}
	for _, id := range []string{quietNew.ID, quietOther.ID} {
		c := w.contact(t, id)
		require.False(t, c.Erased(), "%s: not erased on arrival", id)
		require.Equal(t, gdpr.MemberOptInNew, c.MemberOptIn.Value, "%s: marked new", id)
		require.True(t, c.MemberOptIn.At.Equal(t0), "%s: dated when marked", id)
		last := c.History[len(c.History)-1]
		require.Equal(t, gdpr.ConsentSource{Kind: gdpr.SourceKindSystem, Ref: gdpr.RuleLegacyContact}, last.Source, "%s: the mark is proven", id)
	}

	_, _ = w.sweepAt(t, t0.Add(29*day))
	require.False(t, w.contact(t, quietNew.ID).Erased(), "R-RET-4 counts from the mark")
	_, _ = w.sweepAt(t, t0.Add(30*day))
	w.requireErasedBy(t, quietNew.ID, gdpr.RuleNewContact)
	w.requireErasedBy(t, quietOther.ID, gdpr.RuleNewContact)
	w.requireErasedBy(t, optedOut.ID, gdpr.RuleOptedOutContact) // its own opt-out stood: a year from 2017
	require.False(t, w.contact(t, activeStorage.ID).Erased())
}
