package gdpr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// enqueueMail queues a mail job; the sender renders it later.
func (s *SignupService) enqueueMail(ctx context.Context, brand BrandID, kind MailKind, userID string, now time.Time) error {
	m, err := mailMessage(MailJob{BrandID: brand, Kind: kind, UserID: userID}, NewID("mail_", now))
	if err != nil {
		return err
	}
	_, err = s.queue.Publish(ctx, QueueMail, m)
	return err
}

// sentMailKept is how long the sender remembers a job it sent: longer than any queue keeps
// redelivering a message (Service Bus: its delivery count times the lock; the local queue:
// its backoff), so that a job is mailed at most once.
const sentMailKept = 14 * 24 * time.Hour

// HandleMailJob renders and sends one queued mail, at most once per job. It returns an error
// only when retrying may help, or one matching ErrUndeliverable when the provider refused the
// mail for good (the job is then dead-lettered). A job whose recipient is gone, erased,
// blacklisted or undeliverable is suppressed: logged by ids, and not sent.
func (s *MailService) HandleMailJob(ctx context.Context, body []byte) error {
	var job MailJob
	if err := decodeJob(body, &job); err != nil {
		return err
	}
	if err := job.validate(); err != nil {
		return err
	}
	b, err := s.brand(ctx, job.BrandID)
	if errors.Is(err, ErrNotFound) {
		return nil // the brand is gone: nothing to send
	}
	if err != nil {
		return err
	}
	if sent, err := s.alreadySent(ctx, b.ID, job); sent || err != nil {
		return err
	}
	if s.refusedBefore(ctx, b.ID, job) {
		// Under the host, a refused job fails every delivery until Service Bus dead-letters
		// it: asking Mailjet again each time would only be refused again.
		return fmt.Errorf("the provider refused this job's mail before: %w", ErrUndeliverable)
	}
	u, err := s.users.GetUser(ctx, b.ID, job.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	to, status, vars, links, err := s.prepareMail(ctx, b, u, job)
	if err != nil || to == "" {
		return err
	}
	if reason, err := s.suppressed(ctx, b, status, to); reason != "" || err != nil {
		if reason != "" {
			s.log.InfoContext(ctx, "mail suppressed", "reason", reason, "brand", b.ID, "kind", job.Kind, "user", u.ID, "job", job.ID)
		}
		return err
	}
	m, err := renderMail(job.Kind, vars)
	if err != nil {
		return err
	}
	m.BrandID, m.To, m.Links, m.JobID, m.ContactID = b.ID, to, links, job.ID, job.ContactID
	m.From, m.TemplateID = b.Mail.From, b.Mail.Templates[job.Kind]
	if err := s.mailer.Send(ctx, m); err != nil {
		if errors.Is(err, ErrUndeliverable) {
			s.log.WarnContext(ctx, "mail undeliverable", "brand", b.ID, "kind", job.Kind, "user", u.ID, "job", job.ID, "err", err)
			s.recordJob(ctx, b.ID, job, ClaimMailRefused)
		}
		return err
	}
	s.recordJob(ctx, b.ID, job, ClaimMailSent)
	s.log.InfoContext(ctx, "mail sent", "brand", b.ID, "kind", job.Kind, "user", u.ID, "job", job.ID)
	return nil
}

// suppressed says why nothing may be sent to the address, if anything forbids it: the
// blacklist (R-MAIL-1) or an undeliverable email status (R-MAIL-3).
func (s *MailService) suppressed(ctx context.Context, b Brand, status EmailStatus, to string) (reason string, err error) {
	if !status.Deliverable() {
		return "email_status_" + string(status), nil
	}
	_, err = s.blacklistEntry(ctx, s.blacklist, b.ID, to)
	switch {
	case err == nil:
		return "blacklisted", nil
	case errors.Is(err, ErrNotFound):
		return "", nil
	}
	return "", err
}

// alreadySent reports a job that an earlier delivery mailed.
func (s *MailService) alreadySent(ctx context.Context, brand BrandID, job MailJob) (bool, error) {
	if job.ID == "" {
		return false, nil
	}
	_, err := s.claims.GetClaim(ctx, brand, ClaimMailSent+job.ID)
	switch {
	case err == nil:
		s.log.InfoContext(ctx, "mail already sent for this job", "brand", brand, "kind", job.Kind, "job", job.ID)
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// refusedBefore reports a job whose mail the provider already refused for good.
func (s *MailService) refusedBefore(ctx context.Context, brand BrandID, job MailJob) bool {
	if job.ID == "" {
		return false
	}
	_, err := s.claims.GetClaim(ctx, brand, ClaimMailRefused+job.ID)
	return err == nil
}

// recordJob remembers a job's outcome under kind (ClaimMailSent, ClaimMailRefused). A sent
// mail is recorded after the send: a process that dies in between sends the job's mail again
// on redelivery, once; the other order could lose a mail. A failure to record is logged, not
// returned: the mail went out (or was refused), and failing the job would only repeat it.
func (s *MailService) recordJob(ctx context.Context, brand BrandID, job MailJob, kind string) {
	if job.ID == "" {
		return
	}
	now := s.clock.Now()
	_, err := s.claims.Claim(ctx, Claim{BrandID: brand, Key: kind + job.ID, Owner: job.UserID, CreatedAt: now, ExpiresAt: now.Add(sentMailKept)})
	if err != nil && !errors.Is(err, ErrConflict) {
		s.log.WarnContext(ctx, "could not record a mail job's outcome", "brand", brand, "job", job.ID, "err", err)
	}
}

// prepareMail decides the recipient and the template variables. An empty address means the
// mail no longer applies (the member confirmed, was blocked or erased meanwhile).
func (s *MailService) prepareMail(ctx context.Context, b Brand, u User, job MailJob) (to string, status EmailStatus, vars map[string]string, links []string, err error) {
	vars = map[string]string{"brand": b.Name}
	switch job.Kind {
	case MailSignupConfirmation:
		if u.Status != UserPending {
			return "", "", nil, nil, nil
		}
		// The token is minted here, at send time, so its plain form exists only in the mail:
		// the store keeps its digest (R-SIGNUP-2) and the queue never saw it.
		now := s.clock.Now()
		token := newToken()
		expires := b.Retention.OptInTokenTTL.AddTo(now)
		if _, err := s.tokens.CreateToken(ctx, Token{
			BrandID: b.ID, Digest: s.hasher.Digest(token), Purpose: TokenSignupConfirmation,
			UserID: u.ID, CreatedAt: now, ExpiresAt: expires,
		}); err != nil {
			return "", "", nil, nil, err
		}
		link := s.links.SignupConfirmation(b.ID, token)
		vars["link"], vars["expires"] = link, expires.Format("2006-01-02 15:04 UTC")
		return u.EmailTmp, u.EmailStatus, vars, []string{link}, nil
	case MailAccountExists:
		if u.Status != UserActive {
			return "", "", nil, nil, nil
		}
		return u.Email, u.EmailStatus, vars, nil, nil
	case MailInactivityWarning:
		if u.Status != UserActive || u.Email == "" || !job.Mark.Equal(Review(u, b).Mark) {
			return "", "", nil, nil, nil // logged in since: the warning no longer applies
		}
		// The erasure's date, which warnings sent late move past the mark (R-RET-1).
		vars["date"] = InactivityErasureDate(u, b, s.clock.Now()).Format("2006-01-02")
		return u.Email, u.EmailStatus, vars, nil, nil
	case MailContactInvitation:
		return s.prepareInvitation(ctx, b, u, job, vars)
	case MailProgramSuspended:
		return s.prepareSuspension(ctx, b, u, job, vars)
	}
	return "", "", nil, nil, Errorf(CodeInvalid, "unknown mail kind")
}

// prepareInvitation mints the token of a contact's invitation at send time, as for signups:
// its plain form exists only in the mail. An invitation that no longer applies (answered,
// erased, moved to another Member) sends nothing.
func (s *MailService) prepareInvitation(ctx context.Context, b Brand, member User, job MailJob, vars map[string]string) (string, EmailStatus, map[string]string, []string, error) {
	c, err := s.contacts.GetContact(ctx, b.ID, job.ContactID)
	if errors.Is(err, ErrNotFound) {
		return "", "", nil, nil, nil
	}
	if err != nil {
		return "", "", nil, nil, err
	}
	if c.Erased() || c.MemberID != member.ID || c.MemberOptIn.Value != MemberOptInInvitationSent || member.Status != UserActive {
		return "", "", nil, nil, nil
	}
	now := s.clock.Now()
	token := newToken()
	// The link lives as long as the invitation waits for an answer: the brand's one
	// "no response" duration (R-RET-5), after which the second invitation brings a new link.
	expires := b.Retention.WithDefaults().InvitationPending.AddTo(now)
	if _, err := s.tokens.CreateToken(ctx, Token{BrandID: b.ID, Digest: s.hasher.Digest(token), Purpose: TokenContactInvitation,
		UserID: c.ID, CreatedAt: now, ExpiresAt: expires}); err != nil {
		return "", "", nil, nil, err
	}
	link := s.links.ContactInvitation(b.ID, token)
	// Every mail to a contact links to its unsubscribe page (R-MAIL-5, R-CONSENT-7). That link
	// is not spent by an answer, and lives as long as a contact may be kept without activity.
	unsub := newToken()
	if _, err := s.tokens.CreateToken(ctx, Token{BrandID: b.ID, Digest: s.hasher.Digest(unsub), Purpose: TokenContactUnsubscribe,
		UserID: c.ID, CreatedAt: now, ExpiresAt: b.Retention.WithDefaults().ContactInactivity.AddTo(now)}); err != nil {
		return "", "", nil, nil, err
	}
	unsubLink := s.links.ContactUnsubscribe(b.ID, unsub)
	vars["link"], vars["unsubscribe"], vars["member"] = link, unsubLink, strings.TrimSpace(member.FirstName+" "+member.LastName)
	return c.Email, c.EmailStatus, vars, []string{link, unsubLink}, nil
}

// prepareSuspension mints the opt-out token of a suspended program's warning (R-ERASE-8) at
// send time, as for signups: its plain form exists only in the mail. It lives as long as the
// data is kept. A warning whose suspension is over (relaunched, or another one) or whose
// member is no longer active sends nothing.
func (s *MailService) prepareSuspension(ctx context.Context, b Brand, u User, job MailJob, vars map[string]string) (string, EmailStatus, map[string]string, []string, error) {
	now := s.clock.Now()
	if u.Status != UserActive || u.Email == "" || !b.Suspended() || !b.Suspension.RequestedAt.Equal(job.Mark) || suspensionOver(b, now) {
		return "", "", nil, nil, nil
	}
	token := newToken()
	if _, err := s.tokens.CreateToken(ctx, Token{BrandID: b.ID, Digest: s.hasher.Digest(token), Purpose: TokenProgramOptOut,
		UserID: u.ID, CreatedAt: now, ExpiresAt: b.Suspension.KeepUntil}); err != nil {
		return "", "", nil, nil, err
	}
	link := s.links.ProgramOptOut(b.ID, token)
	vars["link"], vars["date"] = link, b.Suspension.KeepUntil.Format("2006-01-02")
	return u.Email, u.EmailStatus, vars, []string{link}, nil
}

type mailTemplate struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

var mailTemplates = map[MailKind]mailTemplate{
	MailSignupConfirmation: newMailTemplate("Confirm your {{.brand}} account",
		`Hello,

To finish creating your {{.brand}} account, confirm your email address:
{{.link}}

This link works once and expires on {{.expires}}. If you did not sign up, ignore this mail:
no account is created without confirmation.
`,
		`<p>Hello,</p><p>To finish creating your {{.brand}} account, confirm your email address:</p>
<p><a href="{{.link}}">Confirm my email address</a></p>
<p>This link works once and expires on {{.expires}}. If you did not sign up, ignore this mail:
no account is created without confirmation.</p>`),
	MailAccountExists: newMailTemplate("Your {{.brand}} account",
		`Hello,

Someone, perhaps you, tried to sign up to {{.brand}} with this address. You already have an
account: sign in, or reset your password if you forgot it. If it was not you, ignore this mail.
`,
		`<p>Hello,</p><p>Someone, perhaps you, tried to sign up to {{.brand}} with this address. You
already have an account: sign in, or reset your password if you forgot it. If it was not you,
ignore this mail.</p>`),
	MailContactInvitation: newMailTemplate("{{.member}} invites you to keep in touch through {{.brand}}",
		`Hello,

{{.member}} would like to keep you informed through {{.brand}}. Accept or decline here:
{{.link}}

If you decline, you will not hear from {{.member}} through {{.brand}} again; you can also
refuse every member of {{.brand}} at once on that page.

To unsubscribe from {{.member}} or from every member of {{.brand}}:
{{.unsubscribe}}
`,
		`<p>Hello,</p><p>{{.member}} would like to keep you informed through {{.brand}}.</p>
<p><a href="{{.link}}">Accept or decline</a></p>
<p>If you decline, you will not hear from {{.member}} through {{.brand}} again; you can also
refuse every member of {{.brand}} at once on that page.</p>
<p><a href="{{.unsubscribe}}">Unsubscribe</a></p>`),
	MailInactivityWarning: newMailTemplate("Your {{.brand}} account will be deleted on {{.date}}",
		`Hello,

You have not signed in to {{.brand}} for a long time. Under our data-protection policy your
account and its personal data will be erased on {{.date}}. Sign in before then to keep it.
`,
		`<p>Hello,</p><p>You have not signed in to {{.brand}} for a long time. Under our
data-protection policy your account and its personal data will be erased on {{.date}}.
Sign in before then to keep it.</p>`),
	MailProgramSuspended: newMailTemplate("The {{.brand}} program is suspended",
		`Hello,

The {{.brand}} program is suspended. Your account and its data are kept until {{.date}}:
if the program is relaunched by then, you will find them as they were; if not, they will be
erased.

You can opt out now instead: your account is then closed and its personal data erased.
{{.link}}
`,
		`<p>Hello,</p><p>The {{.brand}} program is suspended. Your account and its data are kept
until {{.date}}: if the program is relaunched by then, you will find them as they were; if
not, they will be erased.</p>
<p>You can opt out now instead: your account is then closed and its personal data erased.</p>
<p><a href="{{.link}}">Opt out</a></p>`),
}

func newMailTemplate(subject, text, html string) mailTemplate {
	return mailTemplate{
		subject: texttemplate.Must(texttemplate.New("subject").Option("missingkey=error").Parse(subject)),
		text:    texttemplate.Must(texttemplate.New("text").Option("missingkey=error").Parse(text)),
		html:    htmltemplate.Must(htmltemplate.New("html").Option("missingkey=error").Parse(html)),
	}
}

func renderMail(kind MailKind, vars map[string]string) (Mail, error) {
	t, ok := mailTemplates[kind]
	if !ok {
		return Mail{}, Errorf(CodeInvalid, "unknown mail kind")
	}
	var sb, tb, hb bytes.Buffer
	if err := t.subject.Execute(&sb, vars); err != nil {
		return Mail{}, err
	}
	if err := t.text.Execute(&tb, vars); err != nil {
		return Mail{}, err
	}
	if err := t.html.Execute(&hb, vars); err != nil {
		return Mail{}, err
	}
	return Mail{Kind: kind, Subject: sb.String(), Text: tb.String(), HTML: hb.String(), Variables: vars}, nil
}
