package gdpr_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/templates"
)

// recordingMailer keeps what it is asked to send, and fails as the test says. during, if set,
// runs while the provider holds the mail: what happens meanwhile elsewhere.
type recordingMailer struct {
	mu     sync.Mutex
	sent   []gdpr.Mail
	fail   error
	during func(gdpr.Mail)
}

func (m *recordingMailer) Send(_ context.Context, mail gdpr.Mail) error {
	if m.during != nil {
		m.during(mail)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, mail)
	return nil
}

func (m *recordingMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

type staticLinks struct{}

func (staticLinks) SignupConfirmation(b gdpr.BrandID, token string) string {
	return "https://gdpr.example.test/" + string(b) + "?token=" + token
}

func (staticLinks) ContactInvitation(b gdpr.BrandID, member, token string) string {
	return "https://gdpr.example.test/" + string(b) + "/invitation?member=" + member + "#token=" + token
}

func (staticLinks) ContactOneClickUnsubscribe(b gdpr.BrandID, token string) string {
	return "https://gdpr.example.test/" + string(b) + "/unsubscribe?token=" + token
}

func (staticLinks) ContactUnsubscribe(b gdpr.BrandID, token string) string {
	return "https://gdpr.example.test/" + string(b) + "/unsubscribe#token=" + token
}

func (staticLinks) ProgramOptOut(b gdpr.BrandID, token string) string {
	return "https://gdpr.example.test/" + string(b) + "/program/opt-out#token=" + token
}

func (staticLinks) ExportDownload(b gdpr.BrandID, token string) string {
	return "https://gdpr.test/api/brands/" + string(b) + "/exports/" + token
}

type mailWorld struct {
	store  *localstore.Store
	mailer *recordingMailer
	queue  *recordingQueue
	all    *gdpr.Services
	svc    *gdpr.MailService
	brands *gdpr.BrandService
	hasher *gdpr.Hasher
	clock  *clocktest.Manual
}

func newMailWorld(t *testing.T) *mailWorld {
	t.Helper()
	store, err := localstore.Open(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	w := &mailWorld{store: store, mailer: &recordingMailer{}, queue: &recordingQueue{}, clock: clocktest.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))}
	w.hasher, err = gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	w.all = wire(t, gdpr.Core{Hasher: w.hasher, Clock: w.clock}, gdpr.Platform{Store: store, Queue: w.queue, Mailer: w.mailer, Links: staticLinks{}})
	w.brands, w.svc = w.all.Brands, w.all.Mail
	_, _, err = w.brands.PutBrand(t.Context(), "acme", gdpr.BrandSettings{Name: "Acme", Mail: gdpr.MailSettings{
		From:      gdpr.Sender{Email: "hello@acme.example", Name: "Acme"},
		Templates: map[gdpr.MailKind]int64{gdpr.MailAccountExists: 4242},
	}})
	require.NoError(t, err)
	return w
}

// member creates an active member and returns its id.
func (w *mailWorld) member(t *testing.T, edit func(*gdpr.User)) gdpr.User {
	t.Helper()
	u := gdpr.User{BrandID: "acme", ID: gdpr.NewID("m_", w.clock.Now()), Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
		Status: gdpr.UserActive, CreatedAt: w.clock.Now(), Email: fmt.Sprintf("member.%d@example.test", w.clock.Now().UnixNano())}
	w.clock.Advance(time.Millisecond)
	if edit != nil {
		edit(&u)
	}
	u, err := w.store.CreateUser(t.Context(), u)
	require.NoError(t, err)
	return u
}

func job(id, user string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"brandId":"acme","kind":"account_exists","userId":%q}`, id, user)
}

// TestMailJobSentOncePerJob: Service Bus and the local queue deliver at least once; a job
// redelivered after its mail went out must not send it again (issue #11).
func TestMailJobSentOncePerJob(t *testing.T) {
	w := newMailWorld(t)
	u := w.member(t, nil)
	for range 3 {
		require.NoError(t, w.svc.HandleMailJob(t.Context(), job("mail_1", u.ID)))
	}
	require.Equal(t, 1, w.mailer.count(), "one mail for three deliveries of one job")
	require.NoError(t, w.svc.HandleMailJob(t.Context(), job("mail_2", u.ID)))
	require.Equal(t, 2, w.mailer.count(), "another job is another mail")
}

// TestMailCarriesTheBrandsSenderAndTemplate: the brand's From and its template for the kind
// go with the mail, and the job id as the provider's custom id.
func TestMailCarriesTheBrandsSenderAndTemplate(t *testing.T) {
	w := newMailWorld(t)
	u := w.member(t, nil)
	require.NoError(t, w.svc.HandleMailJob(t.Context(), job("mail_7", u.ID)))
	m := w.mailer.sent[0]
	require.Equal(t, gdpr.Sender{Email: "hello@acme.example", Name: "Acme"}, m.From)
	require.Equal(t, int64(4242), m.TemplateID)
	require.Equal(t, "mail_7", m.JobID)
	require.NotEmpty(t, m.Text, "the built-in text stays as the fallback")
}

// TestMailSuppressed: nothing is sent to a blacklisted address (R-MAIL-1) nor to an address
// whose status is not deliverable (R-MAIL-3); the job succeeds, so it is not retried.
func TestMailSuppressed(t *testing.T) {
	w := newMailWorld(t)
	for _, st := range []gdpr.EmailStatus{gdpr.EmailSpam, gdpr.EmailHardBounce, gdpr.EmailSoftBounce, gdpr.EmailBlocked} {
		u := w.member(t, func(u *gdpr.User) { u.EmailStatus = st })
		require.NoError(t, w.svc.HandleMailJob(t.Context(), job("mail_"+string(st), u.ID)), "R-MAIL-3 %s", st)
	}
	listed := w.member(t, nil)
	require.NoError(t, w.store.PutBlacklist(t.Context(), gdpr.BlacklistEntry{BrandID: "acme", Digest: w.hasher.EmailDigest(listed.Email), Reason: gdpr.BlacklistSpam, CreatedAt: w.clock.Now()}))
	require.NoError(t, w.svc.HandleMailJob(t.Context(), job("mail_listed", listed.ID)), "R-MAIL-1")
	require.Zero(t, w.mailer.count())
}

// TestMailUndeliverableIsNotRecordedAsSent: a mail the provider refused for good fails its
// job with ErrUndeliverable (dead-lettered), and a redelivery of that job does not ask the
// provider again; one that may pass later fails plainly (retried); neither counts as sent.
func TestMailUndeliverableIsNotRecordedAsSent(t *testing.T) {
	w := newMailWorld(t)
	u := w.member(t, nil)
	w.mailer.fail = fmt.Errorf("mailjet: status 400: %w", gdpr.ErrUndeliverable)
	err := w.svc.HandleMailJob(t.Context(), job("mail_9", u.ID))
	require.ErrorIs(t, err, gdpr.ErrUndeliverable)
	w.mailer.fail = nil
	err = w.svc.HandleMailJob(t.Context(), job("mail_9", u.ID))
	require.ErrorIs(t, err, gdpr.ErrUndeliverable, "a refused job stays refused")
	require.Zero(t, w.mailer.count(), "without asking the provider again")

	w.mailer.fail = errors.New("mailjet: status 503")
	err = w.svc.HandleMailJob(t.Context(), job("mail_10", u.ID))
	require.Error(t, err)
	require.NotErrorIs(t, err, gdpr.ErrUndeliverable)
	w.mailer.fail = nil
	require.NoError(t, w.svc.HandleMailJob(t.Context(), job("mail_10", u.ID)))
	require.Equal(t, 1, w.mailer.count(), "the retry after an outage sends it")
}

// TestRErase8SuspensionMailAndOptOut: the suspension's warning says until when the data is
// kept and carries an opt-out link; checking the link changes nothing; using it blocks the
// member as an unsubscription (erased after the grace period) and spends it.
// guide: "Members will be warned of the program suspension by a newsletter and can opt-out."
func TestRErase8SuspensionMailAndOptOut(t *testing.T) {
	w := newMailWorld(t)
	ctx := t.Context()
	q, retention := w.queue, w.all.Retention
	u := w.member(t, nil)
	b, err := retention.SuspendProgram(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, q.msgs, 1)
	require.NoError(t, w.svc.HandleMailJob(ctx, q.msgs[0].Body))
	require.Equal(t, 1, w.mailer.count())
	m := w.mailer.sent[0]
	require.Equal(t, gdpr.MailProgramSuspended, m.Kind)
	require.Equal(t, u.Email, m.To)
	// In the reader's language (English here) and the brand's zone (Europe/Paris by default).
	require.Contains(t, m.Text, templates.FormatDate("en", b.Suspension.KeepUntil.In(b.Location()), false), "the date until which data is kept")
	require.Len(t, m.Links, 1)
	require.Contains(t, m.Text, m.Links[0])
	_, token, ok := strings.Cut(m.Links[0], "/program/opt-out#token=")
	require.True(t, ok, "an opt-out link")

	require.NoError(t, retention.CheckProgramOptOut(ctx, "acme", token))
	got, err := w.store.GetUser(ctx, "acme", u.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.UserActive, got.Status, "checking the link changes nothing")

	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(retention.ProgramOptOut(ctx, "acme", token, "stay")))
	require.NoError(t, retention.ProgramOptOut(ctx, "acme", token, gdpr.ProgramOptOutAnswer))
	got, err = w.store.GetUser(ctx, "acme", u.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.UserBlocked, got.Status, "an opt-out is an unsubscription")
	require.Equal(t, gdpr.ReasonUnsubscribed, got.Block.Reason)
	require.True(t, got.Block.DueAt.After(w.clock.Now()), "erased after the grace period")
	require.Equal(t, gdpr.CodeGone, gdpr.ErrorCode(retention.ProgramOptOut(ctx, "acme", token, gdpr.ProgramOptOutAnswer)), "the link is spent")
	require.Equal(t, gdpr.CodeGone, gdpr.ErrorCode(retention.CheckProgramOptOut(ctx, "acme", token)))
}
