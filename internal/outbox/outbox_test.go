package outbox_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/outbox"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))

func mail(kind gdpr.MailKind) gdpr.Mail {
	return gdpr.Mail{
		BrandID:   "demo",
		Kind:      kind,
		To:        "ada@example.com",
		Subject:   "Confirm your account",
		Text:      "Open https://demo.example/confirm?t=abc",
		HTML:      `<a href="https://demo.example/confirm?t=abc&x=1">Confirm</a>`,
		Links:     []string{"https://demo.example/confirm?t=abc"},
		Variables: map[string]string{"firstName": "Ada"},
	}
}

var testHasher = func() *gdpr.Hasher {
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	return h
}()

func newOutbox(t *testing.T) *outbox.Outbox {
	t.Helper()
	o, err := outbox.New(filepath.Join(t.TempDir(), "nested", "outbox"), testHasher)
	require.NoError(t, err)
	o.Clock = clocktest.Stepping(t0, time.Second)
	return o
}

func TestSendThenList(t *testing.T) {
	ctx := context.Background()
	o := newOutbox(t)
	first, second := mail(gdpr.MailSignupConfirmation), mail(gdpr.MailInactivityWarning)
	second.Links, second.Variables = nil, nil
	require.NoError(t, o.Send(ctx, first))
	require.NoError(t, o.Send(ctx, second))

	got, err := outbox.List(o.Dir())
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, first, got[0].Mail)
	require.Equal(t, second, got[1].Mail)
	require.True(t, got[0].SentAt.Equal(t0))
	require.Equal(t, time.UTC, got[0].SentAt.Location())
	require.True(t, got[1].SentAt.Equal(t0.Add(time.Second)))

	name := regexp.MustCompile(`^20260301T110000\.000000000Z-signup_confirmation-[0-9a-f]{16}-[0-9a-f]{8}\.json$`)
	require.Regexp(t, name, got[0].File)
	require.Contains(t, got[1].File, "-inactivity_warning-")
}

// The file is the contract the README and other tools read: camelCase keys, sentAt included.
func TestFileFormat(t *testing.T) {
	o := newOutbox(t)
	require.NoError(t, o.Send(context.Background(), mail(gdpr.MailAccountExists)))

	files, err := os.ReadDir(o.Dir())
	require.NoError(t, err)
	require.Len(t, files, 1, "no temp file left behind")
	info, err := files[0].Info()
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "mails hold addresses")

	data, err := os.ReadFile(filepath.Join(o.Dir(), files[0].Name()))
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	require.ElementsMatch(t,
		[]string{"brandId", "kind", "to", "subject", "text", "html", "links", "variables", "sentAt"},
		keys(raw))
	require.Equal(t, "2026-03-01T11:00:00Z", raw["sentAt"])
	require.Equal(t, "account_exists", raw["kind"])
	require.Contains(t, string(data), `<a href=\"https://demo.example/confirm?t=abc&x=1\">`, "readable, not \\u003c-escaped")
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// Concurrent sends never overwrite each other (the random part of the name), and List
// returns them in SentAt order.
func TestConcurrentSendsSortByTime(t *testing.T) {
	o := newOutbox(t)
	o.Clock = gdpr.SystemClock{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			assert.NoError(t, o.Send(context.Background(), mail(gdpr.MailSignupConfirmation)))
		})
	}
	wg.Wait()

	got, err := outbox.List(o.Dir())
	require.NoError(t, err)
	require.Len(t, got, 20)
	for i := 1; i < len(got); i++ {
		require.False(t, got[i].SentAt.Before(got[i-1].SentAt), "entry %d is older than entry %d", i, i-1)
	}
}

func TestListSkipsOtherFiles(t *testing.T) {
	o := newOutbox(t)
	require.NoError(t, o.Send(context.Background(), mail(gdpr.MailSignupConfirmation)))
	require.NoError(t, os.WriteFile(filepath.Join(o.Dir(), ".tmp-123"), []byte("{"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(o.Dir(), "README.txt"), []byte("x"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(o.Dir(), "sub.json"), 0o700))

	got, err := outbox.List(o.Dir())
	require.NoError(t, err)
	require.Len(t, got, 1)
}

func TestListReportsCorruptFiles(t *testing.T) {
	o := newOutbox(t)
	require.NoError(t, os.WriteFile(filepath.Join(o.Dir(), "bad.json"), []byte("{"), 0o600))
	_, err := outbox.List(o.Dir())
	require.ErrorContains(t, err, "bad.json")
}

func TestListMissingDir(t *testing.T) {
	_, err := outbox.List(filepath.Join(t.TempDir(), "absent"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestOddKindStaysInDir(t *testing.T) {
	o := newOutbox(t)
	require.NoError(t, o.Send(context.Background(), gdpr.Mail{Kind: "../Evil Kind"}))
	require.NoError(t, o.Send(context.Background(), gdpr.Mail{}))

	got, err := outbox.List(o.Dir())
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Contains(t, got[0].File, "-___evil_kind-")
	require.Equal(t, gdpr.MailKind("../Evil Kind"), got[0].Kind, "the content keeps the real kind")
	require.Contains(t, got[1].File, "-mail-")
}

func TestSendCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := newOutbox(t)
	require.ErrorIs(t, o.Send(ctx, mail(gdpr.MailSignupConfirmation)), context.Canceled)
	got, err := outbox.List(o.Dir())
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestForgetRecipients: erasing a subject deletes its mails from the outbox, and only its
// mails: another address, or the same address at another brand, keeps theirs (R-ERASE-1,
// review finding 5 of #10).
func TestForgetRecipients(t *testing.T) {
	ctx := context.Background()
	o := newOutbox(t)
	to := func(brand gdpr.BrandID, addr string) gdpr.Mail {
		m := mail(gdpr.MailSignupConfirmation)
		m.BrandID, m.To = brand, addr
		return m
	}
	for _, m := range []gdpr.Mail{
		to("demo", "ada@example.com"), to("demo", "ada@example.com"), to("demo", "bob@example.com"),
		to("other", "ada@example.com"),
	} {
		require.NoError(t, o.Send(ctx, m))
	}
	for range 2 { // forgetting twice is harmless
		require.NoError(t, o.ForgetRecipients(ctx, "demo", []string{testHasher.EmailDigest("ADA@example.com ")}))
	}
	left, err := outbox.List(o.Dir())
	require.NoError(t, err)
	require.Len(t, left, 2)
	for _, e := range left {
		require.False(t, e.BrandID == "demo" && e.To == "ada@example.com", "a mail to the erased address is left: %s", e.File)
	}
	files, err := os.ReadDir(o.Dir())
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(o.Dir(), f.Name()))
		require.NoError(t, err)
		require.NotContains(t, f.Name(), "ada", "file names carry no address")
		if strings.Contains(string(data), `"brandId": "demo"`) {
			require.NotContains(t, string(data), "ada@example.com")
		}
	}
}

// TestForgetRecipientsAcrossKeyVersions: a mail written before a hash-key rotation is named
// under the h1 key; after it (h2 newest, h1 retired even), the erasure's digests under every
// version find it, and an h2 digest alone does not (R-ERASE-1, R-ERASE-4).
func TestForgetRecipientsAcrossKeyVersions(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "outbox")
	k1, k2 := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210")
	before, err := outbox.New(dir, testHasher)
	require.NoError(t, err)
	m := mail(gdpr.MailSignupConfirmation)
	m.BrandID, m.To = "demo", "ada@example.com"
	require.NoError(t, before.Send(ctx, m))

	ring, err := gdpr.NewKeyring([]gdpr.HashKey{{Version: "h1", Key: k1}, {Version: "h2", Key: k2}}, []string{"h1"})
	require.NoError(t, err)
	after, err := outbox.New(dir, ring)
	require.NoError(t, err)
	m.To = "bob@example.com"
	require.NoError(t, after.Send(ctx, m))

	require.NoError(t, after.ForgetRecipients(ctx, "demo", []string{ring.EmailDigest("ada@example.com")}))
	left, err := outbox.List(dir)
	require.NoError(t, err)
	require.Len(t, left, 2, "the newest digest alone does not name a mail written under h1")

	require.NoError(t, after.ForgetRecipients(ctx, "demo", ring.AllDigests(gdpr.NormalizeEmail("ada@example.com"))))
	require.NoError(t, after.ForgetRecipients(ctx, "demo", []string{ring.EmailDigest("bob@example.com")}))
	left, err = outbox.List(dir)
	require.NoError(t, err)
	require.Empty(t, left, "each mail found under the version that named it")
}
