package gdpr_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

type eventWorld struct {
	*mailWorld
	events *gdpr.MailEventService
}

func newEventWorld(t *testing.T) *eventWorld {
	t.Helper()
	w := newMailWorld(t)
	w.clock.Set(t1.Add(24 * time.Hour)) // the events of these tests are at t1 and a little after: in the past
	return &eventWorld{mailWorld: w, events: w.all.MailEvents}
}

// claimed creates a member holding its address's claim, as a signup leaves it.
func (w *eventWorld) claimed(t *testing.T) gdpr.User {
	t.Helper()
	u := w.member(t, func(u *gdpr.User) { u.OptIns = gdpr.OptIns{Newsletter: true, Events: true} })
	_, err := w.store.Claim(t.Context(), gdpr.Claim{BrandID: "acme", Key: gdpr.ClaimEmail + w.hasher.EmailDigest(u.Email), Owner: u.ID, CreatedAt: u.CreatedAt})
	require.NoError(t, err)
	return u
}

func (w *eventWorld) user(t *testing.T, id string) gdpr.User {
	t.Helper()
	u, err := w.store.GetUser(t.Context(), "acme", id)
	require.NoError(t, err)
	return u
}

var t1 = time.Date(2031, 1, 2, 0, 0, 0, 0, time.UTC)

// TestMailEventsBlacklistAndStatus: spam, hard bounce and blocked blacklist the digest and set
// the member's status; a soft bounce sets the status only (R-MAIL-1, R-MAIL-2).
func TestMailEventsBlacklistAndStatus(t *testing.T) {
	w := newEventWorld(t)
	cases := []struct {
		name   string
		event  gdpr.MailEvent
		status gdpr.EmailStatus
		reason gdpr.BlacklistReason
	}{
		{"R-MAIL-1_spam", gdpr.MailEvent{Kind: gdpr.MailEventSpam}, gdpr.EmailSpam, gdpr.BlacklistSpam},
		{"R-MAIL-1_hard_bounce", gdpr.MailEvent{Kind: gdpr.MailEventBounce, Permanent: true}, gdpr.EmailHardBounce, gdpr.BlacklistHardBounce},
		{"R-MAIL-1_blocked", gdpr.MailEvent{Kind: gdpr.MailEventBlocked, Permanent: true}, gdpr.EmailBlocked, gdpr.BlacklistBlocked},
		{"R-MAIL-2_soft_bounce_status_only", gdpr.MailEvent{Kind: gdpr.MailEventBounce}, gdpr.EmailSoftBounce, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := w.claimed(t)
			e := c.event
			e.Email, e.At = u.Email, t1
			st, err := w.events.Apply(t.Context(), "acme", []gdpr.MailEvent{e})
			require.NoError(t, err)
			require.Equal(t, 1, st.Members)
			got := w.user(t, u.ID)
			require.Equal(t, c.status, got.EmailStatus)
			require.True(t, got.EmailStatusAt.Equal(t1))
			entry, err := w.store.GetBlacklist(t.Context(), "acme", w.hasher.EmailDigest(u.Email))
			if c.reason == "" {
				require.ErrorIs(t, err, gdpr.ErrNotFound)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.reason, entry.Reason)
			require.True(t, w.hasher.IsDigest(entry.Digest), "the blacklist holds no readable address")
		})
	}
}

// TestMailEventsReplayedThreeTimes: Mailjet retries and duplicates; the same batch applied three
// times leaves one blacklist entry and the same state.
func TestMailEventsReplayedThreeTimes(t *testing.T) {
	w := newEventWorld(t)
	a, b := w.claimed(t), w.claimed(t)
	batch := []gdpr.MailEvent{
		{Kind: gdpr.MailEventSent, Email: a.Email, At: t1},
		{Kind: gdpr.MailEventSpam, Email: a.Email, At: t1.Add(time.Minute)},
		{Kind: gdpr.MailEventSpam, Email: a.Email, At: t1.Add(time.Minute)}, // a duplicate inside the batch
		{Kind: gdpr.MailEventBounce, Email: b.Email, At: t1},
		{Kind: "newsletter_forwarded", Email: b.Email, At: t1},
	}
	var stats []gdpr.MailEventStats
	for range 3 {
		st, err := w.events.Apply(t.Context(), "acme", batch)
		require.NoError(t, err)
		stats = append(stats, st)
	}
	require.Equal(t, 2, stats[0].Members)
	require.Equal(t, 1, stats[0].Ignored, "an unknown kind is ignored, the rest applied")
	require.Zero(t, stats[1].Members, "a replay changes no member")
	require.Zero(t, stats[2].Members)
	require.Equal(t, gdpr.EmailSpam, w.user(t, a.ID).EmailStatus)
	require.Equal(t, gdpr.EmailSoftBounce, w.user(t, b.ID).EmailStatus)
	entry, err := w.store.GetBlacklist(t.Context(), "acme", w.hasher.EmailDigest(a.Email))
	require.NoError(t, err)
	require.True(t, entry.CreatedAt.Equal(t1.Add(time.Minute)), "the first entry is kept")
}

// TestMailEventsOutOfOrder: a soft bounce never replaces a permanent status, and an older
// event never replaces a newer one.
func TestMailEventsOutOfOrder(t *testing.T) {
	w := newEventWorld(t)
	u := w.claimed(t)
	_, err := w.events.Apply(t.Context(), "acme", []gdpr.MailEvent{{Kind: gdpr.MailEventBounce, Permanent: true, Email: u.Email, At: t1}})
	require.NoError(t, err)
	_, err = w.events.Apply(t.Context(), "acme", []gdpr.MailEvent{{Kind: gdpr.MailEventBounce, Email: u.Email, At: t1.Add(time.Hour)}})
	require.NoError(t, err)
	require.Equal(t, gdpr.EmailHardBounce, w.user(t, u.ID).EmailStatus)

	v := w.claimed(t)
	_, err = w.events.Apply(t.Context(), "acme", []gdpr.MailEvent{
		{Kind: gdpr.MailEventBounce, Email: v.Email, At: t1.Add(time.Hour)},
		{Kind: gdpr.MailEventBounce, Email: v.Email, At: t1},
	})
	require.NoError(t, err)
	require.True(t, w.user(t, v.ID).EmailStatusAt.Equal(t1.Add(time.Hour)))
}

// TestMailEventsUnsubscribe: unsubscribing from a mail withdraws the member's mail opt-ins
// (R-MAIL-5, the member side) and blacklists nothing.
func TestMailEventsUnsubscribe(t *testing.T) {
	w := newEventWorld(t)
	u := w.claimed(t)
	_, err := w.events.Apply(t.Context(), "acme", []gdpr.MailEvent{{Kind: gdpr.MailEventUnsub, Email: u.Email, At: t1}})
	require.NoError(t, err)
	got := w.user(t, u.ID)
	require.Equal(t, gdpr.OptIns{}, got.OptIns)
	require.Equal(t, gdpr.EmailOK, got.EmailStatus)
	_, err = w.store.GetBlacklist(t.Context(), "acme", w.hasher.EmailDigest(u.Email))
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

// TestMailEventsTimesNoCalendarHolds (R-MAIL-1, R-MAIL-5, issue 24): an event whose time is
// missing or outside the window is counted, never a failure of the batch; the rest of the
// batch applies; an unsubscribe or a complaint without a usable time applies at now.
func TestMailEventsTimesNoCalendarHolds(t *testing.T) {
	w := newEventWorld(t)
	year10000 := time.Unix(253402300800, 0).UTC()
	yearMinus1 := time.Unix(-62198755200, 0).UTC()
	bounced, complained, unsubscribed, late, real := w.claimed(t), w.claimed(t), w.claimed(t), w.claimed(t), w.claimed(t)
	now := w.clock.Now() // it stands still from here
	batch := []gdpr.MailEvent{
		{Kind: gdpr.MailEventBounce, Permanent: true, Email: bounced.Email, At: year10000},
		{Kind: gdpr.MailEventBlocked, Permanent: true, Email: bounced.Email, At: yearMinus1},
		{Kind: gdpr.MailEventBounce, Email: bounced.Email, At: time.Unix(0, 0)},
		{Kind: gdpr.MailEventBounce, Email: bounced.Email}, // no time
		{Kind: gdpr.MailEventBounce, Email: bounced.Email, At: now.Add(gdpr.MailEventMaxSkew + time.Second)},
		{Kind: gdpr.MailEventClick, Email: bounced.Email, At: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{Kind: gdpr.MailEventSpam, Email: complained.Email, At: year10000},
		{Kind: gdpr.MailEventUnsub, Email: unsubscribed.Email}, // "time": null
		{Kind: gdpr.MailEventBounce, Permanent: true, Email: late.Email, At: gdpr.MailEventEarliest},
		{Kind: gdpr.MailEventBounce, Permanent: true, Email: real.Email, At: now.Add(gdpr.MailEventMaxSkew)},
	}
	for i := range 2 {
		st, err := w.events.Apply(t.Context(), "acme", batch)
		require.NoError(t, err, "a time never fails the batch")
		require.Equal(t, 10, st.Events)
		require.Equal(t, 6, st.Skipped, "bounce, block and click without a usable time")
		require.Equal(t, 2, st.Undated, "the complaint and the unsubscribe")
		require.Equal(t, 3, st.Blacklisted)
		if i == 0 {
			require.Equal(t, 4, st.Members)
		} else {
			require.Zero(t, st.Members, "a replay changes no member")
		}
	}
	got := w.user(t, bounced.ID)
	require.Equal(t, gdpr.EmailOK, got.EmailStatus, "nothing of the skipped events applied")
	require.True(t, got.LastActivityAt.IsZero())
	_, err := w.store.GetBlacklist(t.Context(), "acme", w.hasher.EmailDigest(bounced.Email))
	require.ErrorIs(t, err, gdpr.ErrNotFound)

	got = w.user(t, complained.ID)
	require.Equal(t, gdpr.EmailSpam, got.EmailStatus, "R-MAIL-1: a complaint is never lost")
	require.True(t, got.EmailStatusAt.Equal(now), "at now, not in year 10000")
	entry, err := w.store.GetBlacklist(t.Context(), "acme", w.hasher.EmailDigest(complained.Email))
	require.NoError(t, err)
	require.True(t, entry.CreatedAt.Equal(now))

	require.Equal(t, gdpr.OptIns{}, w.user(t, unsubscribed.ID).OptIns, "R-MAIL-5: an unsubscribe without a time is applied")
	require.Equal(t, gdpr.EmailHardBounce, w.user(t, late.ID).EmailStatus, "the window's edges are inside it")
	require.Equal(t, gdpr.EmailHardBounce, w.user(t, real.ID).EmailStatus)
}

// TestMailEvents_R_MAIL_4_oneMailboxSeveralSpellings (issue 24): Mailjet's event under
// another spelling of a member's mailbox reaches the member and blacklists the one digest; an
// address with an invalid IDN domain is skipped and counted.
func TestMailEvents_R_MAIL_4_oneMailboxSeveralSpellings(t *testing.T) {
	w := newEventWorld(t)
	u := w.member(t, func(u *gdpr.User) { u.Email = gdpr.NormalizeEmail("x@ex\u00e4mple.test") })
	_, err := w.store.Claim(t.Context(), gdpr.Claim{BrandID: "acme", Key: gdpr.ClaimEmail + w.hasher.EmailDigest(u.Email), Owner: u.ID, CreatedAt: u.CreatedAt})
	require.NoError(t, err)
	st, err := w.events.Apply(t.Context(), "acme", []gdpr.MailEvent{
		{Kind: gdpr.MailEventSpam, Email: "X@EXA\u0308MPLE.TEST", At: t1},
		{Kind: gdpr.MailEventSpam, Email: "x@xn--zz.test", At: t1},
	})
	require.NoError(t, err)
	require.Equal(t, 1, st.Members)
	require.Equal(t, 1, st.Blacklisted)
	require.Equal(t, 1, st.Ignored, "the invalid address")
	require.Equal(t, gdpr.EmailSpam, w.user(t, u.ID).EmailStatus)
	for _, spelling := range []string{"x@ex\u00e4mple.test", "x@xn--exmple-cua.test", "x@exa\u0308mple.test"} {
		_, err := w.store.GetBlacklist(t.Context(), "acme", w.hasher.EmailDigest(spelling))
		require.NoError(t, err, "%+q", spelling)
	}
}

// TestReleaseSoftBounce: a member may release a soft bounce, and nothing else (R-MAIL-2); the
// soft bounce's own replay does not set it again.
func TestReleaseSoftBounce(t *testing.T) {
	w := newEventWorld(t)
	u := w.claimed(t)
	soft := []gdpr.MailEvent{{Kind: gdpr.MailEventBounce, Email: u.Email, At: w.clock.Now()}}
	_, err := w.events.Apply(t.Context(), "acme", soft)
	require.NoError(t, err)
	w.clock.Advance(time.Minute)
	got, err := w.events.ReleaseSoftBounce(t.Context(), "acme", u.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.EmailOK, got.EmailStatus)
	_, err = w.events.Apply(t.Context(), "acme", soft)
	require.NoError(t, err)
	require.Equal(t, gdpr.EmailOK, w.user(t, u.ID).EmailStatus, "a replay does not undo the release")

	hard := w.claimed(t)
	_, err = w.events.Apply(t.Context(), "acme", []gdpr.MailEvent{{Kind: gdpr.MailEventSpam, Email: hard.Email, At: t1}})
	require.NoError(t, err)
	_, err = w.events.ReleaseSoftBounce(t.Context(), "acme", hard.ID)
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), "R-MAIL-2: no other status can be released")
}

// TestMailEventCallbackAuth: the brand's basic-auth credentials, and one answer for every
// failure.
func TestMailEventCallbackAuth(t *testing.T) {
	w := newEventWorld(t)
	_, _, err := w.brands.PutBrand(t.Context(), "withcreds", gdpr.BrandSettings{Name: "Creds",
		MailjetCallback: gdpr.BasicCredentials{Username: "mailjet", Password: "a-long-callback-password"}})
	require.NoError(t, err)
	require.NoError(t, w.events.Authenticate(t.Context(), "withcreds", "mailjet", "a-long-callback-password"))
	for name, c := range map[string][3]string{
		"wrong_password": {"withcreds", "mailjet", "a-long-callback-passwore"},
		"wrong_user":     {"withcreds", "mailjeu", "a-long-callback-password"},
		"no_credentials": {"acme", "", ""},
		"unknown_brand":  {"nobrand", "mailjet", "a-long-callback-password"},
		"other_brand":    {"acme", "mailjet", "a-long-callback-password"},
	} {
		err := w.events.Authenticate(t.Context(), gdpr.BrandID(c[0]), c[1], c[2])
		require.Equal(t, gdpr.CodeUnauthenticated, gdpr.ErrorCode(err), name)
	}
}

// TestMailjetCallbackSettings: the callback's credentials as an admin puts them: both or
// neither, a password of 16 to 256 characters, and messages that never quote them (R-MAIL-1,
// R-OPS-1).
func TestMailjetCallbackSettings(t *testing.T) {
	w := newEventWorld(t)
	for name, c := range map[string]struct {
		creds gdpr.BasicCredentials
		ok    bool
	}{
		"none":            {gdpr.BasicCredentials{}, true},
		"username_only":   {gdpr.BasicCredentials{Username: "mailjet"}, false},
		"password_only":   {gdpr.BasicCredentials{Password: "FAKEPWD-sixteen-chars"}, false},
		"short_password":  {gdpr.BasicCredentials{Username: "mailjet", Password: "FAKEPWD-fifteen"}, false},
		"16_chars":        {gdpr.BasicCredentials{Username: "mailjet", Password: "FAKEPWD-sixteen."}, true},
		"long_password":   {gdpr.BasicCredentials{Username: "mailjet", Password: "FAKEPWD" + strings.Repeat("x", 250)}, false},
		"control_in_user": {gdpr.BasicCredentials{Username: "mail\njet", Password: "FAKEPWD-sixteen."}, false},
	} {
		_, _, err := w.brands.PutBrand(t.Context(), "creds", gdpr.BrandSettings{Name: "Creds", MailjetCallback: c.creds})
		if c.ok {
			require.NoError(t, err, name)
			continue
		}
		require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), name)
		require.NotContains(t, err.Error(), "FAKEPWD", name)
	}
}

// TestMailjetCallbackPasswordOfOlderDocumentsIsNotTrusted: a brand document written before the
// callback password was kept as a keyed digest holds it in clear (issue 24, item 8). Such a
// password is not used: the callback is refused until an admin puts the brand's settings
// again, which keep the digest only.
func TestMailjetCallbackPasswordOfOlderDocumentsIsNotTrusted(t *testing.T) {
	w := newEventWorld(t)
	const password = "a-long-callback-password"
	var older gdpr.Brand
	require.NoError(t, json.Unmarshal([]byte(`{"id":"older","name":"Older","status":"active",
		"mailjetCallback":{"username":"mailjet","password":"`+password+`"}}`), &older))
	_, err := w.store.PutBrand(t.Context(), older)
	require.NoError(t, err)
	err = w.events.Authenticate(t.Context(), "older", "mailjet", password)
	require.Equal(t, gdpr.CodeUnauthenticated, gdpr.ErrorCode(err), "a clear password is no longer trusted")

	_, _, err = w.brands.PutBrand(t.Context(), "older", gdpr.BrandSettings{Name: "Older",
		MailjetCallback: gdpr.BasicCredentials{Username: "mailjet", Password: password}})
	require.NoError(t, err)
	require.NoError(t, w.events.Authenticate(t.Context(), "older", "mailjet", password))
	b, err := w.store.GetBrand(t.Context(), "older")
	require.NoError(t, err)
	doc, err := json.Marshal(b)
	require.NoError(t, err)
	require.NotContains(t, string(doc), password)
}
