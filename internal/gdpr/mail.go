package gdpr

import (
	"bytes"
	"context"
	"errors"
	htmltemplate "html/template"
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

// HandleMailJob renders and sends one queued mail. It returns an error only when retrying may
// help; a job whose recipient is gone, erased or blacklisted is dropped.
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
	u, err := s.users.GetUser(ctx, b.ID, job.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	to, vars, links, err := s.prepareMail(ctx, b, u, job)
	if err != nil || to == "" {
		return err
	}
	if _, err := s.blacklist.GetBlacklist(ctx, b.ID, s.hasher.EmailDigest(to)); err == nil {
		s.log.InfoContext(ctx, "mail suppressed: address blacklisted", "brand", b.ID, "kind", job.Kind, "user", u.ID)
		return nil // R-MAIL-1: nothing is ever sent to a blacklisted address
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	m, err := renderMail(job.Kind, vars)
	if err != nil {
		return err
	}
	m.BrandID, m.To, m.Links = b.ID, to, links
	if err := s.mailer.Send(ctx, m); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "mail sent", "brand", b.ID, "kind", job.Kind, "user", u.ID)
	return nil
}

// prepareMail decides the recipient and the template variables. An empty address means the
// mail no longer applies (the member confirmed, was blocked or erased meanwhile).
func (s *MailService) prepareMail(ctx context.Context, b Brand, u User, job MailJob) (to string, vars map[string]string, links []string, err error) {
	vars = map[string]string{"brand": b.Name}
	switch job.Kind {
	case MailSignupConfirmation:
		if u.Status != UserPending {
			return "", nil, nil, nil
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
			return "", nil, nil, err
		}
		link := s.links.SignupConfirmation(b.ID, token)
		vars["link"], vars["expires"] = link, expires.Format("2006-01-02 15:04 UTC")
		return u.EmailTmp, vars, []string{link}, nil
	case MailAccountExists:
		if u.Status != UserActive {
			return "", nil, nil, nil
		}
		return u.Email, vars, nil, nil
	case MailInactivityWarning:
		if u.Status != UserActive || u.Email == "" || !job.Mark.Equal(Review(u, b).Mark) {
			return "", nil, nil, nil // logged in since: the warning no longer applies
		}
		vars["date"] = job.Mark.Format("2006-01-02")
		return u.Email, vars, nil, nil
	}
	return "", nil, nil, Errorf(CodeInvalid, "unknown mail kind")
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
	MailInactivityWarning: newMailTemplate("Your {{.brand}} account will be deleted on {{.date}}",
		`Hello,

You have not signed in to {{.brand}} for a long time. Under our data-protection policy your
account and its personal data will be erased on {{.date}}. Sign in before then to keep it.
`,
		`<p>Hello,</p><p>You have not signed in to {{.brand}} for a long time. Under our
data-protection policy your account and its personal data will be erased on {{.date}}.
Sign in before then to keep it.</p>`),
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
