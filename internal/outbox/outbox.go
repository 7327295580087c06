// Package outbox is the local-mode gdpr.Mailer: instead of calling Mailjet it writes each mail
// as a JSON file into a directory, where a developer, a test or the README's walkthrough can
// read confirmation links from it.
//
// The files hold personal data (recipient addresses): they are 0600 in a 0700 directory, and
// nothing here logs a mail's content.
package outbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"popsell-gdpr/internal/gdpr"
)

var (
	_ gdpr.Mailer   = (*Outbox)(nil)
	_ gdpr.SentMail = (*Outbox)(nil)
)

// Entry is one sent mail as stored in a file: the gdpr.Mail fields, flattened, plus sentAt.
type Entry struct {
	gdpr.Mail
	SentAt time.Time `json:"sentAt"`
	File   string    `json:"-"` // base name of the file, set by List
}

// Outbox writes mails into a directory.
type Outbox struct {
	dir    string
	hasher *gdpr.Hasher
	// Clock stamps sentAt and file names. It defaults to the wall clock; local mode sets the
	// service's clock so that mails line up with the service's (possibly moved) time.
	Clock gdpr.Clock
}

// New returns an Outbox writing into dir, creating the directory if needed. The hasher names
// each file by its recipient's keyed digest, so that an erasure finds the files to delete
// without reading any.
func New(dir string, hasher *gdpr.Hasher) (*Outbox, error) {
	if hasher == nil {
		return nil, fmt.Errorf("outbox: a hasher is needed")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{dir: dir, hasher: hasher, Clock: gdpr.SystemClock{}}, nil
}

// Dir returns the directory mails are written to.
func (o *Outbox) Dir() string { return o.dir }

// timeLayout is fixed-width with nanoseconds and has no colons (not allowed in Windows file
// names), so file names sort by time.
const timeLayout = "20060102T150405.000000000Z"

// Send writes m to "<UTC time>-<kind>-<recipient>-<random>.json", where recipient is a file
// key of the brand and the address's keyed digest. It writes a temp file and renames it, so
// List and anyone watching the directory see whole files only; the random part keeps two
// mails of the same instant apart.
func (o *Outbox) Send(ctx context.Context, m gdpr.Mail) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := Entry{Mail: m, SentAt: o.Clock.Now().UTC()}
	data, err := encode(e)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	name, err := fileName(e.SentAt, m.Kind, o.recipientKey(m.BrandID, o.hasher.EmailDigest(m.To)))
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := writeAtomic(filepath.Join(o.dir, name), data); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// encode indents and leaves <, > and & as they are (json.Marshal would write \u003c...), so
// the HTML and the links read as sent when a developer cats the file or greps a link out.
func encode(e Entry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func fileName(t time.Time, kind gdpr.MailKind, recipient string) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return t.UTC().Format(timeLayout) + "-" + safeKind(kind) + "-" + recipient + "-" + hex.EncodeToString(b[:]) + ".json", nil
}

// recipientKey names a recipient of one brand in file names: 16 hex characters of the keyed
// digest of the brand and the address digest, readable by no one without the key. The key is
// the version that made emailDigest (the newest, when a mail is sent), so that a mail sent
// before a hash-key rotation is still found, after it, by its address's digest under the
// older version: an erasure gives the digests under every version. A digest of no version
// this hasher holds names no file ("").
func (o *Outbox) recipientKey(brand gdpr.BrandID, emailDigest string) string {
	chain, ok := o.hasher.DigestChain(emailDigest)
	if !ok {
		return ""
	}
	d, _ := o.hasher.DigestUnder(chain[0], string(brand)+"|"+emailDigest)
	_, hexPart, _ := strings.Cut(d, ":")
	return hexPart[:16]
}

// ForgetRecipients deletes every mail of the brand to the addresses whose digests are given
// (R-ERASE-1: an erased subject's address leaves every file we write), each under the key
// version that made it.
func (o *Outbox) ForgetRecipients(ctx context.Context, brand gdpr.BrandID, emailDigests []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keys := make(map[string]bool, len(emailDigests))
	for _, d := range emailDigests {
		if k := o.recipientKey(brand, d); k != "" {
			keys["-"+k+"-"] = true
		}
	}
	files, err := os.ReadDir(o.dir)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, f := range files {
		name := f.Name()
		if len(name) < 22 || !strings.HasSuffix(name, ".json") {
			continue
		}
		// The recipient key sits before the 8-character random part and ".json".
		end := len(name) - len(".json") - 8
		if !keys[name[max(0, end-18):end]] {
			continue
		}
		if err := os.Remove(filepath.Join(o.dir, name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// safeKind keeps a kind usable in a file name: kinds are our own constants, but a stray
// character must not change the directory or the sort order.
func safeKind(k gdpr.MailKind) string {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(string(k)))
	if s == "" {
		return "mail"
	}
	return s
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// List reads every mail in dir, oldest first (file names start with the send time). Temp
// files of a Send in progress and anything that is not a ".json" file are skipped.
func List(dir string) ([]Entry, error) {
	files, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	var entries []Entry
	for _, f := range files {
		name := f.Name()
		if !f.Type().IsRegular() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		var e Entry
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("outbox: %s: %w", name, err)
		}
		e.File = name
		entries = append(entries, e)
	}
	return entries, nil
}
