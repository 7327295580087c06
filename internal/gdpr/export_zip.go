package gdpr

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"path"
	"strings"
	"time"
)

// The zip of an export, written as a stream: export.json (docs/export/export.schema.json),
// one CSV per entity, and a subject's files. Contacts are read a page at a time, once per
// entry that lists them, so memory stays bounded whatever the subject's size.

// ExportSchemaVersion is export.json's schemaVersion: a change of its shape changes it, and
// docs/export/export.schema.json with it.
const ExportSchemaVersion = "1.0"

// exportPage is how many contacts an export reads at a time.
const exportPage = 500

// exportContent is what one export writes: its subjects and contacts, read again for each
// entry of the zip.
type exportContent struct {
	s     *ExportService
	brand Brand
	rec   ExportRecord
	now   time.Time
	user  *User // the subject of ExportSubject; nil for ExportBrand

	userTree, contactTree, erasureTree *exportTree
	files                              []exportedFile
}

// exportedFile is one of a subject's files in the zip.
type exportedFile struct {
	Path      string `json:"path"`
	Field     string `json:"field"`
	SubjectID string `json:"subjectId"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
}

// write writes the whole zip to w.
func (c *exportContent) write(ctx context.Context, w io.Writer) error {
	zw := zip.NewWriter(w)
	if err := c.writeFiles(ctx, zw); err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		fn   func(context.Context, io.Writer) error
	}{
		{"export.json", c.writeJSON},
		{"profile.csv", c.writeProfileCSV},
		{"contacts.csv", c.writeContactsCSV},
		{"consents.csv", c.writeConsentsCSV},
		{"sales.csv", c.writeSalesCSV},
		{"erasures.csv", c.writeErasuresCSV},
		{"requests.csv", c.writeRequestsCSV},
	} {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: c.now})
		if err != nil {
			return err
		}
		if err := e.fn(ctx, f); err != nil {
			return err
		}
	}
	return zw.Close()
}

// eachUser calls fn for every subject of the export: the one user, or every user of the
// brand that is not erased, a page at a time.
func (c *exportContent) eachUser(ctx context.Context, fn func(User) error) error {
	if c.user != nil {
		return fn(*c.user)
	}
	for after := ""; ; {
		page, err := c.s.users.ListUsers(ctx, c.brand.ID, after, exportPage)
		if err != nil {
			return err
		}
		for _, u := range page {
			if u.Status == UserErased {
				continue
			}
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// eachContact calls fn for every contact the export carries, as its reader may see it: the
// member's own contacts as its CRM shows them (R-ACCESS-2: erased and pending ones left out,
// an opted-out address hidden, a sale its date and amount, R-RET-7, R-CONSENT-8), or, for
// the brand, only contacts with a Brand opt-in (R-ACCESS-1). doc is the stored contact with
// only the fields the data map exports.
func (c *exportContent) eachContact(ctx context.Context, fn func(ct Contact, doc map[string]any) error) error {
	for after := ""; ; {
		var page []Contact
		var err error
		if c.user != nil {
			page, err = c.s.memberContacts.MemberContactsPage(ctx, c.brand.ID, c.user.ID, after, exportPage)
		} else {
			page, err = c.s.contacts.ListContacts(ctx, c.brand.ID, after, exportPage)
		}
		if err != nil {
			return err
		}
		for _, ct := range page {
			if ct.Erased() {
				continue
			}
			if c.user == nil && !ct.BrandOptIn.Value.VisibleToBrand() {
				continue // R-ACCESS-1: never a contact without a Brand opt-in
			}
			if c.user != nil && ct.MemberOptIn.Value.HiddenFromMember() {
				continue
			}
			doc, err := exportDoc(ct, c.contactTree)
			if err != nil {
				return err
			}
			if c.user != nil {
				memberSees(ct, doc)
			}
			if err := fn(ct, doc); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// memberSees narrows a contact's exported fields to what its member's CRM shows.
func memberSees(ct Contact, doc map[string]any) {
	if ct.MemberOptIn.Value.EmailHiddenFromMember() {
		delete(doc, "email") // R-RET-7
	}
	if sales, ok := doc["sales"].([]any); ok {
		for i, s := range sales {
			if m, ok := s.(map[string]any); ok {
				sales[i] = map[string]any{"amount": m["amount"], "at": m["at"]} // R-CONSENT-8
			}
		}
	}
}

// writeFiles copies the subject's files (its photo, its content) under files/, noting their
// size and digest for export.json. A file the platform no longer holds is left out.
func (c *exportContent) writeFiles(ctx context.Context, zw *zip.Writer) error {
	if c.user == nil {
		return nil
	}
	type src struct{ field, key string }
	var srcs []src
	if c.user.PhotoKey != "" {
		srcs = append(srcs, src{"photoKey", c.user.PhotoKey})
	}
	for _, u := range c.user.UGC {
		srcs = append(srcs, src{"ugc[].key", u.Key})
	}
	for i, f := range srcs {
		r, err := c.s.memberFiles.Open(ctx, f.key)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		name := "files/" + strings.TrimSuffix(f.field, "[].key")
		if f.field != "photoKey" {
			name += "-" + itoa(i)
		}
		name += path.Ext(f.key)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: c.now})
		if err != nil {
			r.Close()
			return err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), r)
		r.Close()
		if err != nil {
			return err
		}
		c.files = append(c.files, exportedFile{Path: name, Field: f.field, SubjectID: c.user.ID, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	return nil
}

// jsonArray writes "name":[…] with one element per call of each's yield.
func jsonArray(w io.Writer, name string, each func(yield func(v any) error) error) error {
	if _, err := io.WriteString(w, ",\n"+`"`+name+`":[`); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	first := true
	err := each(func(v any) error {
		if !first {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		first = false
		return enc.Encode(v)
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "]")
	return err
}

// writeJSON streams export.json.
func (c *exportContent) writeJSON(ctx context.Context, w io.Writer) error {
	head := map[string]any{
		"schemaVersion": ExportSchemaVersion,
		"scope":         c.rec.Scope,
		"exportId":      c.rec.ExportID,
		"requestId":     c.rec.RequestID,
		"generatedAt":   c.now,
		"controller":    map[string]any{"brandId": c.brand.ID, "name": c.brand.Name},
	}
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	if _, err := w.Write(b[:len(b)-1]); err != nil { // the object stays open for the arrays
		return err
	}
	arrays := []struct {
		name string
		each func(yield func(v any) error) error
	}{
		{"profiles", func(yield func(any) error) error {
			return c.eachUser(ctx, func(u User) error {
				doc, err := exportDoc(u, c.userTree)
				if err != nil {
					return err
				}
				return yield(doc)
			})
		}},
		{"consents", func(yield func(any) error) error {
			return c.eachConsent(ctx, func(r ConsentRecord) error { return yield(r) })
		}},
		{"contacts", func(yield func(any) error) error {
			return c.eachContact(ctx, func(_ Contact, doc map[string]any) error { return yield(doc) })
		}},
		{"erasures", func(yield func(any) error) error {
			return c.eachErasure(ctx, func(r ErasureRecord) error {
				doc, err := exportDoc(r, c.erasureTree)
				if err != nil {
					return err
				}
				return yield(doc)
			})
		}},
		{"requests", func(yield func(any) error) error {
			return c.eachRequest(ctx, func(r RequestSummary) error { return yield(r) })
		}},
		{"files", func(yield func(any) error) error {
			for _, f := range c.files {
				if err := yield(f); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, a := range arrays {
		if err := jsonArray(w, a.name, a.each); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "}\n")
	return err
}

// eachErasure calls fn for the erasure records about the export's subjects: the subject's
// own (a contest's content deleted, a second pass at the contract end), read a page at a
// time from the brand's audit trail. A brand's export carries none: the audit trail is
// Popsell's proof, served to the brand on its own route.
func (c *exportContent) eachErasure(ctx context.Context, fn func(ErasureRecord) error) error {
	if c.user == nil {
		return nil
	}
	for after := ""; ; {
		page, err := c.s.audit.ListErasures(ctx, c.brand.ID, after, 1000)
		if err != nil {
			return err
		}
		for _, r := range page {
			if r.SubjectID == c.user.ID {
				if err := fn(r); err != nil {
					return err
				}
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// eachRequest calls fn for the data-subject requests about the subject, oldest first.
func (c *exportContent) eachRequest(ctx context.Context, fn func(RequestSummary) error) error {
	if c.user == nil || c.s.history == nil {
		return nil
	}
	reqs, err := c.s.history.SubjectRequests(ctx, c.brand.ID, c.user.ID)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// csvSafe keeps a spreadsheet from reading a value as a formula (CSV injection): a value
// starting with =, +, -, @, tab or carriage return gets a leading apostrophe.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func writeCSV(w io.Writer, header []string, rows func(row func(...string) error) error) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	err := rows(func(vals ...string) error {
		for i := range vals {
			vals[i] = csvSafe(vals[i])
		}
		return cw.Write(vals)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// writeProfileCSV lists every exported profile field, one row per subject and field.
func (c *exportContent) writeProfileCSV(ctx context.Context, w io.Writer) error {
	return writeCSV(w, []string{"subjectId", "field", "value"}, func(row func(...string) error) error {
		return c.eachUser(ctx, func(u User) error {
			doc, err := exportDoc(u, c.userTree)
			if err != nil {
				return err
			}
			for _, kv := range flatten(doc) {
				if err := row(u.ID, kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// writeContactsCSV lists the contacts, one column per exported field the data map lists.
func (c *exportContent) writeContactsCSV(ctx context.Context, w io.Writer) error {
	cols := exportedColumns(string(SubjectContact))
	return writeCSV(w, cols, func(row func(...string) error) error {
		return c.eachContact(ctx, func(_ Contact, doc map[string]any) error {
			vals := map[string]string{}
			for _, kv := range flatten(doc) {
				vals[kv[0]] = kv[1]
			}
			out := make([]string, len(cols))
			for i, col := range cols {
				out[i] = vals[col]
			}
			return row(out...)
		})
	})
}

// writeSalesCSV lists the contacts' sales, as the export's reader may see them.
func (c *exportContent) writeSalesCSV(ctx context.Context, w io.Writer) error {
	return writeCSV(w, []string{"contactId", "orderId", "amount", "currency", "at", "products"}, func(row func(...string) error) error {
		return c.eachContact(ctx, func(ct Contact, doc map[string]any) error {
			sales, _ := doc["sales"].([]any)
			for _, s := range sales {
				m, _ := s.(map[string]any)
				var products []string
				items, _ := m["products"].([]any)
				for _, p := range items {
					pm, _ := p.(map[string]any)
					products = append(products, scalar(pm["sku"])+" x"+scalar(pm["quantity"]))
				}
				if err := row(ct.ID, scalar(m["orderId"]), scalar(m["amount"]), scalar(m["currency"]), scalar(m["at"]),
					strings.Join(products, "; ")); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// writeConsentsCSV lists the consent records, one row per event.
func (c *exportContent) writeConsentsCSV(ctx context.Context, w io.Writer) error {
	return writeCSV(w, []string{"recordId", "subjectId", "subjectKind", "controller", "purposes", "dataCategories",
		"legalBasis", "state", "notice", "eventType", "eventAt", "eventSource"}, func(row func(...string) error) error {
		return c.eachConsent(ctx, func(r ConsentRecord) error {
			for _, e := range r.Events {
				if err := row(r.RecordID, r.SubjectID, string(r.SubjectKind), r.Controller, strings.Join(r.Purposes, "; "),
					strings.Join(r.DataCategories, "; "), r.LegalBasis, r.State, r.Notice, e.Type, e.At.Format(time.RFC3339Nano), e.Source); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

func (c *exportContent) writeErasuresCSV(ctx context.Context, w io.Writer) error {
	return writeCSV(w, []string{"id", "subjectId", "subjectKind", "rule", "reason", "requestedAt", "dueAt", "doneAt",
		"fieldsErased", "fieldsHashed", "blobsDeleted"}, func(row func(...string) error) error {
		return c.eachErasure(ctx, func(r ErasureRecord) error {
			return row(r.ID, r.SubjectID, string(r.SubjectKind), r.Rule, string(r.Reason), r.RequestedAt.Format(time.RFC3339Nano),
				r.DueAt.Format(time.RFC3339Nano), r.DoneAt.Format(time.RFC3339Nano), strings.Join(r.FieldsErased, "; "),
				strings.Join(r.FieldsHashed, "; "), itoa(r.BlobsDeleted))
		})
	})
}

func (c *exportContent) writeRequestsCSV(ctx context.Context, w io.Writer) error {
	return writeCSV(w, []string{"id", "kind", "status", "receivedAt", "completedAt"}, func(row func(...string) error) error {
		return c.eachRequest(ctx, func(r RequestSummary) error {
			done := ""
			if !r.CompletedAt.IsZero() {
				done = r.CompletedAt.Format(time.RFC3339Nano)
			}
			return row(r.ID, r.Kind, r.Status, r.ReceivedAt.Format(time.RFC3339Nano), done)
		})
	})
}
