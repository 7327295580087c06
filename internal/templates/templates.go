// Package templates writes every page and mail the service shows people: one template per
// page and per mail kind, the words of each language in files/lang/<language>.tmpl (every
// language defines the same messages), and the brand's identity (name, logo, colour, links,
// postal address) laid over them. Pages are html/template, mails' subject and text
// text/template and their HTML html/template.
//
// Nothing is parsed when the package loads: a Set parses a language's templates the first
// time that language is used (sync.Once per language), so a cold start that serves no page
// and sends no mail pays nothing for them.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	texttemplate "text/template"
	"time"

	"popsell-gdpr/internal/gdpr"
)

//go:embed files
var files embed.FS

// Page names a page.
type Page string

const (
	PageConfirm       Page = "confirm"         // a signup's confirmation (R-SIGNUP-2)
	PageInvitation    Page = "invitation"      // a contact's invitation (R-RET-5)
	PageUnsubscribe   Page = "unsubscribe"     // a contact's unsubscribe page (R-MAIL-5, R-CONSENT-7)
	PageProgramOptOut Page = "program-opt-out" // a suspended program's opt-out (R-ERASE-8)
)

// Pages are every page, in the order tests walk them.
var Pages = []Page{PageConfirm, PageInvitation, PageUnsubscribe, PageProgramOptOut}

// MailKinds are the kinds of mail this package writes: every kind gdpr sends.
var MailKinds = []gdpr.MailKind{gdpr.MailSignupConfirmation, gdpr.MailAccountExists, gdpr.MailInactivityWarning,
	gdpr.MailContactInvitation, gdpr.MailProgramSuspended}

// PageScript moves the token of a link's fragment (#token=…) into the page's form, then drops
// the fragment from the address bar and the history. It is the pages' only script; the HTTP
// layer allows it, and only it, by its hash in the Content-Security-Policy.
const PageScript = `(function(){var t=new URLSearchParams(location.hash.slice(1)).get("token");` +
	`if(!t)return;document.getElementById("token").value=t;document.getElementById("code").hidden=true;` +
	`history.replaceState(null,"",location.pathname+location.search)})()`

// PageData is what a page shows. Which of its states it shows is decided in this order:
// an answer recorded (Done, Answered), a mail resent (Resent), a problem, the form.
type PageData struct {
	// Language is one of gdpr.SupportedLanguages; anything else reads English.
	Language string
	Brand    string // the brand's name; empty for an unknown brand
	Identity gdpr.BrandIdentity

	// Action is where the page's form posts.
	Action string
	// Token fills a hidden field of the form: a link that carried its token in the query.
	Token string
	// FromFragment: the token is in the link's fragment, which the page's script reads.
	FromFragment bool
	// Problem is the gdpr.Code of what stops the link (gone, not_found, invalid, ...).
	Problem string
	// Resend is where a confirmation page whose link is gone posts an address for a new one.
	Resend string
	// Member names the member who invites, on the invitation page.
	Member string
	// Done: the signup is confirmed. Resent: a new link was asked for. Answered: the answer
	// recorded on an invitation, unsubscribe or opt-out page.
	Done, Resent bool
	Answered     string
}

// view is what the templates read: one shape for pages and mails.
type view struct {
	Lang  string
	Brand brandView
	// Member names the member who invites; MemberStart is the same at a sentence's start,
	// which differs when the member has no name to show ("a member of …"). Named tells.
	Member, MemberStart string
	Named               bool
	Date                string
	Link                string

	Unsubscribe string

	Action, Token, Problem, Resend, Answered string
	FromFragment, Done, Resent               bool
}

type brandView struct {
	Name, LogoURL, SiteURL, PrivacyURL, SignInURL, Address string
	// Color is the brand's primary colour, checked for contrast when it was set.
	Color string
}

func newBrandView(name string, id gdpr.BrandIdentity) brandView {
	color := id.PrimaryColor
	if color == "" {
		color = gdpr.DefaultPrimaryColor
	}
	signIn := id.SignInURL
	if signIn == "" {
		signIn = id.SiteURL
	}
	return brandView{Name: name, LogoURL: id.LogoURL, SiteURL: id.SiteURL, PrivacyURL: id.PrivacyURL, SignInURL: signIn,
		Address: id.PostalAddress, Color: color}
}

// Set holds the parsed templates of each language, parsed on first use. Its zero value is
// not usable: call New.
type Set struct {
	langs  map[string]*langSet
	parsed atomic.Int64
}

// langSet is one language's templates: its pages and its mails each parsed once, apart, so
// the first page a cold instance serves does not wait for the mails' parse.
type langSet struct {
	pagesOnce, mailsOnce sync.Once
	pagesErr, mailsErr   error
	pages                map[Page]*htmltemplate.Template
	html                 map[gdpr.MailKind]*htmltemplate.Template
	text                 map[gdpr.MailKind]*texttemplate.Template
}

// New returns a Set that has parsed nothing yet.
func New() *Set {
	s := &Set{langs: make(map[string]*langSet, len(gdpr.SupportedLanguages))}
	for _, l := range gdpr.SupportedLanguages {
		s.langs[l] = &langSet{}
	}
	return s
}

// Parsed is how many sets of templates (a language's pages, a language's mails) the set has
// parsed so far: zero until a page or mail is written, which is what keeps the templates off
// the cold start.
func (s *Set) Parsed() int { return int(s.parsed.Load()) }

// language is lang's templates, English for an unsupported lang.
func (s *Set) language(lang string) (*langSet, string) {
	if _, ok := s.langs[lang]; !ok {
		lang = gdpr.SupportedLanguages[0]
	}
	return s.langs[lang], lang
}

// readFile reads an embedded file; the embed pattern covers every name read here.
func readFile(name string) string {
	b, err := files.ReadFile("files/" + name)
	if err != nil {
		panic("templates: missing embedded file " + name)
	}
	return string(b)
}

// parsePages parses lang's pages on their first use.
func (s *Set) parsePages(ls *langSet, lang string) error {
	ls.pagesOnce.Do(func() {
		s.parsed.Add(1)
		ls.pagesErr = ls.parsePages(lang)
	})
	return ls.pagesErr
}

// parseMails parses lang's mails on their first use.
func (s *Set) parseMails(ls *langSet, lang string) error {
	ls.mailsOnce.Do(func() {
		s.parsed.Add(1)
		ls.mailsErr = ls.parseMails(lang)
	})
	return ls.mailsErr
}

func (ls *langSet) parsePages(lang string) error {
	read, words := readFile, readFile("lang/"+lang+".tmpl")
	pageBase, err := htmltemplate.New("lang").Parse(words)
	if err == nil {
		_, err = pageBase.New("script").Parse(PageScript)
	}
	if err == nil {
		_, err = pageBase.New("pages").Parse(read("pages/layout.html"))
	}
	if err != nil {
		return fmt.Errorf("templates: %s pages: %w", lang, err)
	}
	ls.pages = make(map[Page]*htmltemplate.Template, len(Pages))
	for _, p := range Pages {
		t, err := htmltemplate.Must(pageBase.Clone()).New(string(p)).Parse(read("pages/" + string(p) + ".html"))
		if err != nil {
			return fmt.Errorf("templates: %s page %s: %w", lang, p, err)
		}
		ls.pages[p] = t
	}
	return nil
}

func (ls *langSet) parseMails(lang string) error {
	read, words := readFile, readFile("lang/"+lang+".tmpl")
	mailBase, err := htmltemplate.New("lang").Parse(words)
	if err == nil {
		_, err = mailBase.New("mail").Parse(read("mail/layout.html"))
	}
	if err != nil {
		return fmt.Errorf("templates: %s mail: %w", lang, err)
	}
	textBase, err := texttemplate.New("lang").Option("missingkey=error").Parse(words)
	if err == nil {
		_, err = textBase.New("mail").Parse(read("mail/layout.txt"))
	}
	if err != nil {
		return fmt.Errorf("templates: %s text mail: %w", lang, err)
	}
	ls.html = make(map[gdpr.MailKind]*htmltemplate.Template, len(MailKinds))
	ls.text = make(map[gdpr.MailKind]*texttemplate.Template, len(MailKinds))
	for _, k := range MailKinds {
		subject := `{{define "subject"}}{{template "` + string(k) + `.subject" .}}{{end}}`
		h, err := htmltemplate.Must(mailBase.Clone()).New(string(k)).Parse(read("mail/"+string(k)+".html") + subject)
		if err != nil {
			return fmt.Errorf("templates: %s mail %s: %w", lang, k, err)
		}
		t, err := texttemplate.Must(textBase.Clone()).New(string(k)).Parse(read("mail/"+string(k)+".txt") + subject)
		if err != nil {
			return fmt.Errorf("templates: %s text mail %s: %w", lang, k, err)
		}
		ls.html[k], ls.text[k] = h, t
	}
	return nil
}

// RenderPage writes page p in d's language.
func (s *Set) RenderPage(w io.Writer, p Page, d PageData) error {
	ls, lang := s.language(d.Language)
	if err := s.parsePages(ls, lang); err != nil {
		return err
	}
	t, ok := ls.pages[p]
	if !ok {
		return fmt.Errorf("templates: no page %q", p)
	}
	v := view{Lang: lang, Brand: newBrandView(d.Brand, d.Identity), Member: d.Member,
		Action: d.Action, Token: d.Token, Problem: d.Problem, Resend: d.Resend, Answered: d.Answered,
		FromFragment: d.FromFragment, Done: d.Done, Resent: d.Resent}
	// Rendered whole before writing, so a failure sends no half page.
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

var _ gdpr.MailRenderer = (*Set)(nil)

// RenderMail writes a mail in its reader's language, dates in the brand's zone, with the
// footer every mail carries: who sends it and why, the unsubscribe link of a mail to a
// contact, the brand's privacy policy, site and postal address.
func (s *Set) RenderMail(c gdpr.MailContent) (gdpr.RenderedMail, error) {
	if !slices.Contains(MailKinds, c.Kind) {
		return gdpr.RenderedMail{}, gdpr.Errorf(gdpr.CodeInvalid, "unknown mail kind")
	}
	ls, lang := s.language(c.Language)
	if err := s.parseMails(ls, lang); err != nil {
		return gdpr.RenderedMail{}, err
	}
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	v := view{Lang: lang, Brand: newBrandView(c.Brand, c.Identity), Member: c.Member, Link: c.Link, Unsubscribe: c.Unsubscribe}
	if !c.At.IsZero() {
		v.Date = FormatDate(lang, c.At.In(loc), c.Kind == gdpr.MailSignupConfirmation)
	}
	v.Named, v.MemberStart = v.Member != "", v.Member
	if c.Kind == gdpr.MailContactInvitation && !v.Named {
		var who, whoStart strings.Builder
		if err := ls.text[c.Kind].ExecuteTemplate(&who, "someone", v); err != nil {
			return gdpr.RenderedMail{}, err
		}
		if err := ls.text[c.Kind].ExecuteTemplate(&whoStart, "someone.start", v); err != nil {
			return gdpr.RenderedMail{}, err
		}
		v.Member, v.MemberStart = who.String(), whoStart.String()
	}
	var subject, text, html bytes.Buffer
	if err := ls.text[c.Kind].ExecuteTemplate(&subject, "subject", v); err != nil {
		return gdpr.RenderedMail{}, err
	}
	if err := ls.text[c.Kind].ExecuteTemplate(&text, "layout", v); err != nil {
		return gdpr.RenderedMail{}, err
	}
	if err := ls.html[c.Kind].ExecuteTemplate(&html, "layout", v); err != nil {
		return gdpr.RenderedMail{}, err
	}
	vars := map[string]string{"brand": c.Brand, "language": lang}
	for name, value := range map[string]string{"link": c.Link, "unsubscribe": c.Unsubscribe, "member": v.Member} {
		if value != "" {
			vars[name] = value
		}
	}
	if v.Date != "" {
		// The names provider templates were written against: "expires" for a link's end.
		if c.Kind == gdpr.MailSignupConfirmation {
			vars["expires"] = v.Date
		} else {
			vars["date"] = v.Date
		}
	}
	return gdpr.RenderedMail{Subject: strings.TrimSpace(subject.String()), Text: text.String(), HTML: html.String(), Variables: vars}, nil
}
