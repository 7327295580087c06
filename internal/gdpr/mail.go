package gdpr

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
// mail for good (the job is then dead-lettered); a refusal of the recipient's address marks
// the subject undeliverable first (markRefused). A job whose recipient is gone, erased,
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
	if u.Restriction != nil && job.ContactID == "" {
		// A restricted or objecting subject gets no mail until the request is lifted (Art.
		// 18, 21). An invitation goes to the member's contact, who is not the subject.
		s.log.InfoContext(ctx, "mail suppressed", "reason", "restricted", "brand", b.ID, "kind", job.Kind, "user", u.ID, "job", job.ID)
		return nil
	}
	to, status, content, links, err := s.prepareMail(ctx, b, u, job)
	if err != nil || to == "" {
		return err
	}
	if reason, err := s.suppressed(ctx, b, job.Kind, status, to); reason != "" || err != nil {
		if reason != "" {
			s.log.InfoContext(ctx, "mail suppressed", "reason", reason, "brand", b.ID, "kind", job.Kind, "user", u.ID, "job", job.ID)
		}
		return err
	}
	r, err := s.renderer.RenderMail(content)
	if err != nil {
		return err
	}
	m := Mail{Kind: job.Kind, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Variables: r.Variables, Language: content.Language,
		BrandID: b.ID, To: to, Links: links, JobID: job.ID, ContactID: job.ContactID,
		From: b.Mail.From, TemplateID: b.Mail.TemplateFor(job.Kind, content.Language)}
	if job.Kind == MailContactInvitation { // the first invitation and its reminder (R-RET-5)
		m.Headers = oneClickHeaders(links[len(links)-1])
	}
	if err := s.mailer.Send(ctx, m); err != nil {
		if errors.Is(err, ErrUndeliverable) {
			s.log.WarnContext(ctx, "mail undeliverable", "brand", b.ID, "kind", job.Kind, "user", u.ID, "job", job.ID, "err", err)
			if errors.Is(err, ErrRecipientRefused) {
				// Marked before the refusal is recorded: a failure here retries the job, which
				// asks the provider again (refused again, nothing sent) and marks it then.
				if err := s.markRefused(ctx, b, job, to, s.clock.Now()); err != nil {
					return err
				}
			}
			s.recordJob(ctx, b.ID, job, ClaimMailRefused)
		}
		return err
	}
	s.recordJob(ctx, b.ID, job, ClaimMailSent)
	s.log.InfoContext(ctx, "mail sent", "brand", b.ID, "kind", job.Kind, "user", u.ID, "job", job.ID)
	return nil
}

// suppressed says why nothing may be sent to the address, if anything forbids it: the
// blacklist (R-MAIL-1) or an undeliverable email status (R-MAIL-3). One mail passes a
// complaint or a global opt-out: the signup confirmation the person just asked for on the
// form, whose confirmed link is the only way such an entry is lifted (R-MAIL-4); the resend
// limit bounds it to one a minute. A bounce or a block stops it like any other mail.
func (s *MailService) suppressed(ctx context.Context, b Brand, kind MailKind, status EmailStatus, to string) (reason string, err error) {
	if !status.Deliverable() {
		return "email_status_" + string(status), nil
	}
	e, err := s.blacklistEntry(ctx, s.blacklist, b.ID, to)
	switch {
	case err == nil && kind == MailSignupConfirmation && e.Reason.NeedsConsent():
		return "", nil
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

// prepareMail decides the recipient and what the mail says, in the reader's language: the
// member's own, then the brand's default, then English. An empty address means the mail no
// longer applies (the member confirmed, was blocked or erased meanwhile).
func (s *MailService) prepareMail(ctx context.Context, b Brand, u User, job MailJob) (to string, status EmailStatus, content MailContent, links []string, err error) {
	content = MailContent{Kind: job.Kind, Language: ReaderLanguage(u.Language, b.DefaultLanguage), Location: b.Location(),
		Brand: b.Name, Identity: b.Identity}
	switch job.Kind {
	case MailSignupConfirmation:
		if u.Status != UserPending {
			return "", "", content, nil, nil
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
			return "", "", content, nil, err
		}
		content.Link, content.At = s.links.SignupConfirmation(b.ID, token), expires
		return u.EmailTmp, u.EmailStatus, content, []string{content.Link}, nil
	case MailAccountExists:
		if u.Status != UserActive {
			return "", "", content, nil, nil
		}
		return u.Email, u.EmailStatus, content, nil, nil
	case MailInactivityWarning:
		if u.Status != UserActive || u.Email == "" || !job.Mark.Equal(Review(u, b).Mark) {
			return "", "", content, nil, nil // logged in since: the warning no longer applies
		}
		// The erasure's date, which warnings sent late move past the mark (R-RET-1).
		content.At = InactivityErasureDate(u, b, s.clock.Now())
		return u.Email, u.EmailStatus, content, nil, nil
	case MailContactInvitation:
		return s.prepareInvitation(ctx, b, u, job, content)
	case MailProgramSuspended:
		return s.prepareSuspension(ctx, b, u, job, content)
	}
	return "", "", content, nil, Errorf(CodeInvalid, "unknown mail kind")
}

// prepareInvitation mints the token of a contact's invitation at send time, as for signups:
// its plain form exists only in the mail. An invitation that no longer applies (answered,
// erased, moved to another Member) sends nothing. Contacts hold no language of their own:
// they read the language of the member who invites them (prepareMail's choice).
func (s *MailService) prepareInvitation(ctx context.Context, b Brand, member User, job MailJob, content MailContent) (string, EmailStatus, MailContent, []string, error) {
	c, err := s.contacts.GetContact(ctx, b.ID, job.ContactID)
	if errors.Is(err, ErrNotFound) {
		return "", "", content, nil, nil
	}
	if err != nil {
		return "", "", content, nil, err
	}
	if c.Erased() || c.MemberID != member.ID || c.MemberOptIn.Value != MemberOptInInvitationSent || member.Status != UserActive {
		return "", "", content, nil, nil
	}
	now := s.clock.Now()
	token := newToken()
	// The link lives as long as the invitation waits for an answer: the brand's one
	// "no response" duration (R-RET-5), after which the second invitation brings a new link.
	expires := b.Retention.WithDefaults().InvitationPending.AddTo(now)
	if _, err := s.tokens.CreateToken(ctx, Token{BrandID: b.ID, Digest: s.hasher.Digest(token), Purpose: TokenContactInvitation,
		UserID: c.ID, CreatedAt: now, ExpiresAt: expires}); err != nil {
		return "", "", content, nil, err
	}
	link := s.links.ContactInvitation(b.ID, member.ID, token)
	// Every mail to a contact links to its unsubscribe page (R-MAIL-5, R-CONSENT-7), and
	// carries a one-click List-Unsubscribe URL (RFC 8058) of its own token, which can only
	// opt the contact out from this member: its URL has the token in the query, where a
	// leaked copy must not be able to do more. Neither is spent by an answer, and both live
	// as long as a contact may be kept without activity.
	unsubExpires := b.Retention.WithDefaults().ContactInactivity.AddTo(now)
	unsub, oneClick := newToken(), newToken()
	for _, t := range []Token{
		{BrandID: b.ID, Digest: s.hasher.Digest(unsub), Purpose: TokenContactUnsubscribe, UserID: c.ID, CreatedAt: now, ExpiresAt: unsubExpires},
		{BrandID: b.ID, Digest: s.hasher.Digest(oneClick), Purpose: TokenContactOneClick, UserID: c.ID, CreatedAt: now, ExpiresAt: unsubExpires},
	} {
		if _, err := s.tokens.CreateToken(ctx, t); err != nil {
			return "", "", content, nil, err
		}
	}
	content.Link, content.Unsubscribe, content.Member = link, s.links.ContactUnsubscribe(b.ID, unsub), contactDisplayName(member)
	content.At = expires
	return c.Email, c.EmailStatus, content, []string{link, content.Unsubscribe, s.links.ContactOneClickUnsubscribe(b.ID, oneClick)}, nil
}

// oneClickHeaders are the headers of a mail a contact may unsubscribe from in one click
// (RFC 8058; Gmail and Yahoo ask bulk senders for them): the provider's POST to the URL opts
// the contact out from its member.
// RFC 8058 §3.1 asks for an https URL: a deployment without one (local mode on plain http)
// sends neither header, and the unsubscribe link in the mail's footer remains.
func oneClickHeaders(oneClickURL string) map[string]string {
	if !strings.HasPrefix(oneClickURL, "https://") {
		return nil
	}
	return map[string]string{"List-Unsubscribe": "<" + oneClickURL + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
}

// prepareSuspension mints the opt-out token of a suspended program's warning (R-ERASE-8) at
// send time, as for signups: its plain form exists only in the mail. It lives as long as the
// data is kept. A warning whose suspension is over (relaunched, or another one) or whose
// member is no longer active sends nothing.
func (s *MailService) prepareSuspension(ctx context.Context, b Brand, u User, job MailJob, content MailContent) (string, EmailStatus, MailContent, []string, error) {
	now := s.clock.Now()
	if u.Status != UserActive || u.Email == "" || !b.Suspended() || !b.Suspension.RequestedAt.Equal(job.Mark) || suspensionOver(b, now) {
		return "", "", content, nil, nil
	}
	token := newToken()
	if _, err := s.tokens.CreateToken(ctx, Token{BrandID: b.ID, Digest: s.hasher.Digest(token), Purpose: TokenProgramOptOut,
		UserID: u.ID, CreatedAt: now, ExpiresAt: b.Suspension.KeepUntil}); err != nil {
		return "", "", content, nil, err
	}
	content.Link, content.At = s.links.ProgramOptOut(b.ID, token), b.Suspension.KeepUntil
	return u.Email, u.EmailStatus, content, []string{content.Link}, nil
}
