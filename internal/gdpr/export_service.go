package gdpr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Exports answer access and portability requests (Art. 15, 20) and authorised brand exports:
// a zip written as a stream to a container of its own, a link of 256 bits stored as a keyed
// digest, valid at most 48 hours and three downloads, and the file deleted once the link has
// expired or its subject is erased (R-RIGHTS-1, R-ACCESS-1…3).

// ExportDeps are the ports of the ExportService.
type ExportDeps struct {
	Users          UserStore
	Contacts       ContactDocuments   // a brand's contacts, a page at a time
	MemberContacts MemberContactPages // a member's contacts, a page at a time
	Audit          ErasureAudit       // the erasure records about the subject
	Records        ExportRecords
	Files          ExportFiles
	MemberFiles    MemberFiles
	Links          Links
	// History lists the data-subject requests about a subject; nil: none are listed.
	History SubjectRequestHistory
}

// ExportService produces exports, serves their downloads and deletes them when they expire.
type ExportService struct {
	core
	users          UserStore
	contacts       ContactDocuments
	memberContacts MemberContactPages
	audit          ErasureAudit
	records        ExportRecords
	files          ExportFiles
	memberFiles    MemberFiles
	links          Links
	history        SubjectRequestHistory
}

// NewExportService checks its dependencies.
func NewExportService(c Core, d ExportDeps) (*ExportService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("ExportService", map[string]bool{"Users": d.Users != nil, "Contacts": d.Contacts != nil,
			"MemberContacts": d.MemberContacts != nil, "Audit": d.Audit != nil, "Records": d.Records != nil,
			"Files": d.Files != nil, "MemberFiles": d.MemberFiles != nil, "Links": d.Links != nil})
	}
	if err != nil {
		return nil, err
	}
	return &ExportService{core: cc, users: d.Users, contacts: d.Contacts, memberContacts: d.MemberContacts, audit: d.Audit,
		records: d.Records, files: d.Files, memberFiles: d.MemberFiles, links: d.Links, history: d.History}, nil
}

// exportKeyPrefix is where export files go in their container: the prefix its lifecycle
// rule deletes after two days (infra/modules/storage.bicep), apart from other exports there.
const exportKeyPrefix = "requests/"

// exportContentType is the media type of an export's file.
const exportContentType = "application/zip"

// Produce writes the export that answers job and returns its download. It is idempotent per
// job.RequestID: the first call records the export (its random id, its file's key) before
// writing anything, and every later call finds that record; a ready export is returned as
// it is, without a write. Calls that find it still producing (a concurrent call, or a
// producer that died) write the same file again under the same key, whole, and the record's
// version decides which marks it ready: one file, one link, whatever the interleaving.
func (s *ExportService) Produce(ctx context.Context, job ExportJob) (Download, error) {
	b, err := s.brand(ctx, job.Brand)
	if err != nil {
		return Download{}, err
	}
	if err := validExportJob(job); err != nil {
		return Download{}, err
	}
	rec, err := s.exportRecord(ctx, b.ID, job)
	if err != nil {
		return Download{}, err
	}
	switch rec.Status {
	case ExportReady:
		return s.download(rec)
	case ExportDeleted:
		return Download{}, Errorf(CodeGone, "the export was produced and has been deleted (%s)", rec.DeletedBecause)
	}
	var user *User
	if job.Scope == ExportSubject {
		u, err := getUser(ctx, s.users, b.ID, job.SubjectID)
		if err != nil {
			return Download{}, err
		}
		if u.Status == UserErased {
			return Download{}, Errorf(CodeGone, "the subject is erased")
		}
		user = &u
	}
	content := &exportContent{s: s, brand: b, rec: rec, now: s.clock.Now(), user: user,
		userTree: exportedPaths(string(SubjectMember)), contactTree: exportedPaths(string(SubjectContact)),
		erasureTree: exportedPaths("erasures")}
	if user != nil && user.Role.External() {
		content.userTree = exportedPaths(string(SubjectExternal))
	}
	if err := s.writeZip(ctx, rec.BlobKey, content); err != nil {
		return Download{}, err
	}
	// The record is written at the version this call holds, without reading it first; only
	// when another writer changed it meanwhile is it read again, to see what that was.
	cur, fresh := rec, true
	err = retry(ctx, func() error {
		if !fresh {
			var err error
			if cur, err = s.records.GetExport(ctx, b.ID, rec.RequestID); err != nil {
				return err
			}
		}
		fresh = false
		if cur.Status == ExportDeleted {
			// The sweep took this export for abandoned while it was written: what was just
			// written must not outlive its record.
			rec = cur
			return s.files.Delete(ctx, cur.BlobKey)
		}
		if cur.Status != ExportProducing {
			rec = cur
			return nil
		}
		now := s.clock.Now()
		cur.Status, cur.ReadyAt = ExportReady, now
		cur.ExpiresAt = b.Retention.ExportLink.AddTo(now)
		if cur.ExpiresAt.After(MaxExportLink.AddTo(now)) {
			cur.ExpiresAt = MaxExportLink.AddTo(now) // never past 48 hours, whatever a setting says
		}
		updated, err := s.records.UpdateExport(ctx, cur)
		if err == nil {
			rec = updated
		}
		return err
	})
	if err != nil {
		return Download{}, err
	}
	if rec.Status != ExportReady {
		return Download{}, Errorf(CodeGone, "the export has been deleted (%s)", rec.DeletedBecause)
	}
	s.log.InfoContext(ctx, "export ready", "brand", b.ID, "request", rec.RequestID, "scope", string(rec.Scope), "expiresAt", rec.ExpiresAt)
	return s.download(rec)
}

// validExportJob checks a job's shape; ids name files, so they are held to a pattern.
func validExportJob(job ExportJob) error {
	switch {
	case !exportRequestID(job.RequestID):
		return Errorf(CodeInvalid, "requestId must be 1 to 64 letters, digits, '-' or '_'")
	case job.Scope == ExportSubject && (job.SubjectID == "" || len(job.SubjectID) > 64):
		return Errorf(CodeInvalid, "a subject's export needs its subject's id")
	case job.Scope == ExportBrand && job.SubjectID != "":
		return Errorf(CodeInvalid, "a brand's export names no subject")
	case job.Scope != ExportSubject && job.Scope != ExportBrand:
		return Errorf(CodeInvalid, "scope must be subject or brand")
	}
	return nil
}

// exportRecord returns the request's record, creating it if there is none yet.
func (s *ExportService) exportRecord(ctx context.Context, brand BrandID, job ExportJob) (ExportRecord, error) {
	rec, err := s.records.GetExport(ctx, brand, job.RequestID)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return rec, s.sameJob(rec, job, err)
	}
	id := newExportID()
	rec = ExportRecord{BrandID: brand, RequestID: job.RequestID, Scope: job.Scope, SubjectID: job.SubjectID, ExportID: id,
		BlobKey: exportKeyPrefix + string(brand) + "/" + id + ".zip", Status: ExportProducing, CreatedAt: s.clock.Now()}
	version := s.hasher.Newest()
	token, _ := s.exportToken(brand, id, version)
	rec.TokenDigest, _ = s.hasher.DigestUnder(version, "export-token|"+token)
	created, err := s.records.CreateExport(ctx, rec)
	if errors.Is(err, ErrConflict) { // a concurrent first call recorded it first: its record holds
		created, err = s.records.GetExport(ctx, brand, job.RequestID)
		return created, s.sameJob(created, job, err)
	}
	return created, err
}

// sameJob refuses a request id already used for another subject or scope.
func (s *ExportService) sameJob(rec ExportRecord, job ExportJob, err error) error {
	if err != nil {
		return err
	}
	if rec.Scope != job.Scope || rec.SubjectID != job.SubjectID {
		return Errorf(CodeConflict, "this request's export was produced for another subject or scope")
	}
	return nil
}

// writeZip streams the zip into the export's file: the zip is written into one end of a pipe
// as the upload reads the other, so neither holds more than a buffer.
func (s *ExportService) writeZip(ctx context.Context, key string, content *exportContent) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := content.write(ctx, pw)
		pw.CloseWithError(err) // nil: the reader sees EOF
		done <- err
	}()
	err := s.files.PutStream(ctx, key, pr, exportContentType)
	pr.CloseWithError(errors.New("upload ended")) // unblocks a writer the upload stopped reading
	cancel()
	if werr := <-done; werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// download is the link of a ready export, made again from its export id under the key
// version its token was made with; gone once that version is retired.
func (s *ExportService) download(rec ExportRecord) (Download, error) {
	token, ok := s.exportToken(rec.BrandID, rec.ExportID, s.exportTokenVersion(rec))
	if !ok {
		return Download{}, Errorf(CodeGone, "the export link was made under a retired hash key")
	}
	return Download{URL: s.links.ExportDownload(rec.BrandID, token), ExpiresAt: rec.ExpiresAt}, nil
}

// ExportDownload is an export's file as its link serves it.
type ExportDownload struct {
	Body     io.ReadCloser
	Filename string
}

// Download serves the file of a link's token: a malformed token is invalid (400), an unknown
// one not found (404), an expired, exhausted or deleted one gone (410). Each download is
// counted before the file is served, by a write guarded by the version read, so concurrent
// downloads never pass MaxExportDownloads: a write that lost the race reads again, and each
// loss is another download counted, so at most MaxExportDownloads losses end in gone.
func (s *ExportService) Download(ctx context.Context, brandID BrandID, token string) (ExportDownload, error) {
	if !validTokenShape(token) {
		return ExportDownload{}, Errorf(CodeInvalid, "token is malformed")
	}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return ExportDownload{}, err
	}
	digests := s.exportTokenDigests(token)
	var rec ExportRecord
	err = retryUpTo(ctx, MaxExportDownloads+2, func() error {
		cur, err := firstFound(digests, func(d string) (ExportRecord, error) { return s.records.ExportByToken(ctx, b.ID, d) })
		if errors.Is(err, ErrNotFound) {
			return Errorf(CodeNotFound, "unknown export link")
		}
		if err != nil {
			return err
		}
		now := s.clock.Now()
		switch {
		case cur.Status != ExportReady:
			return Errorf(CodeGone, "the export link has expired")
		case !now.Before(cur.ExpiresAt):
			// Delete at once rather than at the next sweep; the sweep does it if this fails.
			if err := s.deleteExport(ctx, cur, ExportExpired); err != nil {
				s.log.WarnContext(ctx, "export not deleted at expiry", "brand", b.ID, "request", cur.RequestID, "code", string(ErrorCode(err)))
			}
			return Errorf(CodeGone, "the export link has expired")
		case cur.Downloads >= MaxExportDownloads:
			return Errorf(CodeGone, "the export link has been used %d times", MaxExportDownloads)
		}
		if cur.Scope == ExportSubject {
			u, err := s.users.GetUser(ctx, b.ID, cur.SubjectID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if err != nil || u.Status == UserErased {
				if err := s.deleteExport(ctx, cur, ExportSubjectErased); err != nil {
					return err
				}
				return Errorf(CodeGone, "the export link has expired")
			}
		}
		cur.Downloads++
		rec, err = s.records.UpdateExport(ctx, cur)
		return err
	})
	if err != nil {
		return ExportDownload{}, err
	}
	body, err := s.files.Open(ctx, rec.BlobKey)
	if err != nil {
		return ExportDownload{}, err
	}
	s.log.InfoContext(ctx, "export downloaded", "brand", b.ID, "request", rec.RequestID, "downloads", rec.Downloads)
	return ExportDownload{Body: body, Filename: "export-" + rec.RequestID + ".zip"}, nil
}

// deleteExport deletes an export's file, then marks its record: the record outlives the
// file, so its link answers gone. A repeat after a crash deletes nothing and marks it.
func (s *ExportService) deleteExport(ctx context.Context, rec ExportRecord, because string) error {
	if err := s.files.Delete(ctx, rec.BlobKey); err != nil {
		return err
	}
	return retry(ctx, func() error {
		cur, err := s.records.GetExport(ctx, rec.BrandID, rec.RequestID)
		if err != nil || cur.Status == ExportDeleted {
			return err
		}
		cur.Status, cur.DeletedAt, cur.DeletedBecause = ExportDeleted, s.clock.Now(), because
		_, err = s.records.UpdateExport(ctx, cur)
		return err
	})
}

// exportAbandonAfter is how long a producing export may stay so before the sweep takes its
// producer for dead and deletes what it wrote: far past any export's writing time, and short
// of the 48 hours an export's file may live.
const exportAbandonAfter = 24 * time.Hour

// Sweep deletes the files of every brand's exports whose link has expired, whose subject is
// erased, whose producer never finished or whose brand's contract ended, and marks their
// records (R-ACCESS-3: erased means gone for exports too). It reads only live exports.
func (s *ExportService) Sweep(ctx context.Context) error {
	brands, err := s.brands.ListBrands(ctx)
	if err != nil {
		return err
	}
	return s.sweepBrands(ctx, brands)
}

// sweepBrands is Sweep over brands listed once for the whole daily sweep.
func (s *ExportService) sweepBrands(ctx context.Context, brands []Brand) error {
	var errs []error
	for _, b := range brands {
		n, err := s.SweepBrand(ctx, b.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("brand %s: %w", b.ID, err))
		}
		if n > 0 {
			s.log.InfoContext(ctx, "exports deleted", "brand", b.ID, "count", n)
		}
	}
	return errors.Join(errs...)
}

// SweepBrand is Sweep for one brand; it returns how many files it deleted.
func (s *ExportService) SweepBrand(ctx context.Context, brandID BrandID) (int, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return 0, err
	}
	return s.deleteLiveExports(ctx, b.ID, func(page []ExportRecord) ([]string, error) {
		var subjects []string
		for _, r := range page {
			if r.Scope == ExportSubject {
				subjects = append(subjects, r.SubjectID)
			}
		}
		erased := map[string]bool{}
		if len(subjects) > 0 {
			users, err := s.users.GetUsers(ctx, b.ID, subjects)
			if err != nil {
				return nil, err
			}
			present := map[string]bool{}
			for _, u := range users {
				present[u.ID] = true
				erased[u.ID] = u.Status == UserErased
			}
			for _, id := range subjects {
				erased[id] = erased[id] || !present[id]
			}
		}
		now := s.clock.Now()
		because := make([]string, len(page))
		for i, r := range page {
			switch {
			case b.Ended():
				because[i] = ExportBrandEnded
			case r.Scope == ExportSubject && erased[r.SubjectID]:
				because[i] = ExportSubjectErased
			case r.Status == ExportReady && !now.Before(r.ExpiresAt):
				because[i] = ExportExpired
			case r.Status == ExportProducing && now.Sub(r.CreatedAt) >= exportAbandonAfter:
				because[i] = ExportAbandoned
			}
		}
		return because, nil
	})
}

// deleteLiveExports walks a brand's live exports a page at a time and deletes each one
// reasons gives a reason for ("" keeps it); it returns how many it deleted.
func (s *ExportService) deleteLiveExports(ctx context.Context, brand BrandID, reasons func(page []ExportRecord) ([]string, error)) (int, error) {
	deleted := 0
	for after := ""; ; {
		page, err := s.records.LiveExports(ctx, brand, after, exportPage)
		if err != nil {
			return deleted, err
		}
		because, err := reasons(page)
		if err != nil {
			return deleted, err
		}
		for i, r := range page {
			if because[i] == "" {
				continue
			}
			if err := s.deleteExport(ctx, r, because[i]); err != nil {
				return deleted, err
			}
			deleted++
		}
		if len(page) < exportPage {
			return deleted, nil
		}
		after = page[len(page)-1].RequestID
	}
}

// DeleteSubjectExports deletes the files of the subjects' exports, ready or still being
// written, and marks their records: a step of their erasure, so that no file of ours holds an
// erased subject's data until the sweep or the link's expiry would (R-ACCESS-3: erased means
// gone). A producer still writing one finds its record deleted and deletes what it wrote; one
// that starts after the erasure finds its subject erased. It returns how many it deleted; a
// repeat deletes none.
func (s *ExportService) DeleteSubjectExports(ctx context.Context, brand BrandID, subjects []string) (int, error) {
	if len(subjects) == 0 {
		return 0, nil
	}
	erased := make(map[string]bool, len(subjects))
	for _, id := range subjects {
		erased[id] = true
	}
	return s.deleteLiveExports(ctx, brand, func(page []ExportRecord) ([]string, error) {
		because := make([]string, len(page))
		for i, r := range page {
			if r.Scope == ExportSubject && erased[r.SubjectID] {
				because[i] = ExportSubjectErased
			}
		}
		return because, nil
	})
}

// ExportLink is the download of a request's export, made again from its record, for the
// request's GET: zero when the export is not ready (or no longer is).
func (s *ExportService) ExportLink(ctx context.Context, brand BrandID, requestID string) (Download, error) {
	rec, err := s.records.GetExport(ctx, brand, requestID)
	if errors.Is(err, ErrNotFound) {
		return Download{}, nil
	}
	if err != nil || rec.Status != ExportReady || !s.clock.Now().Before(rec.ExpiresAt) {
		return Download{}, err
	}
	if d, err := s.download(rec); ErrorCode(err) != CodeGone {
		return d, err
	}
	return Download{}, nil
}
