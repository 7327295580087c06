package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// TestExportsEndToEnd_R_ACCESS_3: on both stores, an access export of a member with contacts,
// consents and a photo is downloaded through its public link and read back field by field
// against the data map; the link serves three downloads, refuses a fourth (410), answers 410
// once expired, and the sweep leaves no byte of the export in any file of the data dir; a
// brand's export never carries a contact without a Brand opt-in (R-ACCESS-1).
func TestExportsEndToEnd_R_ACCESS_3(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		ctx := context.Background()
		start := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
		app.setClock(t, start)
		app.putBrand("shop", map[string]any{"retention": map[string]any{"exportLink": "PT6H"}})
		const brand = gdpr.BrandID("shop")

		u := storetest.NewUser(brand)
		u.Status, u.Block, u.Erasure, u.UGC = gdpr.UserActive, nil, nil, nil
		m, err := app.App.Store.CreateUser(ctx, u)
		require.NoError(t, err)
		photo := []byte("PHOTO-BYTES-" + m.ID)
		require.NoError(t, app.App.Blobs.Put(ctx, m.PhotoKey, photo, "image/jpeg"))
		var kept, hidden gdpr.Contact
		for i, opt := range []gdpr.BrandOptIn{gdpr.BrandOptInBlog, gdpr.BrandOptInNone} {
			c := storetest.NewContact(brand, m.ID)
			c.ErasedAt, c.ErasedBy, c.Erasure = time.Time{}, "", nil
			c.MemberOptIn.Value, c.BrandOptIn.Value = gdpr.MemberOptInInvitationAccepted, opt
			c, err = app.App.Store.CreateContact(ctx, c)
			require.NoError(t, err)
			if i == 0 {
				kept = c
			} else {
				hidden = c
			}
		}

		d, err := app.App.ExportService.Produce(ctx, gdpr.ExportJob{Brand: brand, RequestID: "dsar-1", Scope: gdpr.ExportSubject, SubjectID: m.ID})
		require.NoError(t, err)
		require.True(t, d.ExpiresAt.Sub(start) <= 6*time.Hour+time.Minute, "the brand's 6 hours, not 48")
		link, err := url.Parse(d.URL)
		require.NoError(t, err)

		get := func() response { return app.do("GET", link.Path, nil, nil) }
		first := get()
		require.Equal(t, 200, first.Status, "%s", first.Body)
		require.Equal(t, "no-store", first.Header.Get("Cache-Control"))
		require.Equal(t, "application/zip", first.Header.Get("Content-Type"))
		require.Contains(t, first.Header.Get("Content-Disposition"), "attachment")

		entries := readZip(t, first.Body)
		require.Equal(t, photo, entries["files/photoKey.jpg"])
		var doc struct {
			SchemaVersion string           `json:"schemaVersion"`
			Profiles      []map[string]any `json:"profiles"`
			Contacts      []map[string]any `json:"contacts"`
			Consents      []map[string]any `json:"consents"`
		}
		require.NoError(t, json.Unmarshal(entries["export.json"], &doc))
		require.Equal(t, gdpr.ExportSchemaVersion, doc.SchemaVersion)
		require.Len(t, doc.Profiles, 1)
		require.Len(t, doc.Contacts, 2, "the member's own contacts, Brand opt-in or not (R-ACCESS-2)")
		require.Len(t, doc.Consents, 5)
		for _, table := range gdpr.DataMap() {
			if table.Kind != string(gdpr.SubjectMember) {
				continue
			}
			for _, f := range table.Fields {
				top, _, _ := strings.Cut(f.Path, ".")
				_, present := doc.Profiles[0][top]
				if !f.Export {
					require.False(t, present && !strings.Contains(f.Path, "."), "%s is not exported", f.Path)
				}
			}
		}
		p := doc.Profiles[0]
		require.Equal(t, m.Email, p["email"])
		require.Equal(t, m.FirstName, p["firstName"])
		require.Equal(t, m.Address.Street, p["address"].(map[string]any)["street"])
		require.Equal(t, m.Terms.Version, p["terms"].(map[string]any)["version"])
		for _, absent := range []string{"passwordHash", "warnings", "erasure", "nextReviewAt", "ssoEventAt", "kind", "brandId"} {
			require.NotContains(t, p, absent)
		}

		require.Equal(t, 200, get().Status)
		require.Equal(t, 200, get().Status)
		fourth := get()
		require.Equal(t, 410, fourth.Status, "three downloads at most: %s", fourth.Body)
		require.Equal(t, "no-store", fourth.Header.Get("Cache-Control"))

		require.Equal(t, 400, app.do("GET", "/api/brands/shop/exports/not-a-token", nil, nil).Status)
		require.Equal(t, 404, app.do("GET", "/api/brands/shop/exports/"+strings.Repeat("x", 43), nil, nil).Status)

		// A brand's export: never a contact without a Brand opt-in.
		bd, err := app.App.ExportService.Produce(ctx, gdpr.ExportJob{Brand: brand, RequestID: "brand-1", Scope: gdpr.ExportBrand})
		require.NoError(t, err)
		bl, err := url.Parse(bd.URL)
		require.NoError(t, err)
		res := app.do("GET", bl.Path, nil, nil)
		require.Equal(t, 200, res.Status)
		for name, b := range readZip(t, res.Body) {
			require.Contains(t, string(readZip(t, res.Body)["export.json"]), kept.ID)
			for _, v := range []string{hidden.ID, hidden.Email, hidden.Notes} {
				require.NotContains(t, string(b), v, "%s carries a contact without Brand opt-in", name)
			}
		}

		// Bytes of the first export only: the middle of its compressed export.json. Before the
		// sweep they are in the export's file, so the scan below can fail.
		needle := compressedMiddle(t, first.Body, "export.json")
		if be.embedded {
			found := false
			_ = filepath.WalkDir(app.App.Config.DataDir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					b, _ := os.ReadFile(p)
					found = found || bytes.Contains(b, needle)
				}
				return nil
			})
			require.True(t, found, "the export's bytes are in its file before the sweep")
		}

		// Expiry: 410 at once, then the sweep deletes both files.
		app.setClock(t, bd.ExpiresAt.Add(time.Minute))
		require.Equal(t, 410, app.do("GET", bl.Path, nil, nil).Status)
		app.sweep(t)
		if be.embedded {
			exportsDir := filepath.Join(app.App.Config.DataDir, "exports")
			var left []string
			_ = filepath.WalkDir(exportsDir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					left = append(left, filepath.Base(p))
				}
				return nil
			})
			require.Empty(t, left, "no export file left")
			requireNoFileContains(t, app.App.Config.DataDir, string(needle), "")
		}
		for _, req := range []string{"dsar-1", "brand-1"} {
			rec, err := app.App.Store.GetExport(ctx, brand, req)
			require.NoError(t, err)
			require.Equal(t, gdpr.ExportDeleted, rec.Status, req)
			_, err = app.App.Exports.Open(ctx, rec.BlobKey)
			require.ErrorIs(t, err, gdpr.ErrNotFound, "the file is gone from the %s container", be.name)
		}
	})
}

// compressedMiddle is 48 bytes from the middle of an entry's compressed data in a zip.
func compressedMiddle(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	for _, f := range zr.File {
		if f.Name == name {
			off, err := f.DataOffset()
			require.NoError(t, err)
			mid := off + int64(f.CompressedSize64)/2
			require.Greater(t, f.CompressedSize64, uint64(96))
			return data[mid : mid+48]
		}
	}
	t.Fatalf("no %s in the zip", name)
	return nil
}

func readZip(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		r.Close()
		out[f.Name] = b
	}
	return out
}
