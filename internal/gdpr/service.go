package gdpr

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
)

// Deps are what the Service needs from outside the process.
type Deps struct {
	Store     Store
	Queue     Queue
	Mailer    Mailer
	Blobs     Blobs
	Passwords PasswordHasher
	Hasher    *Hasher
	Clock     Clock
	Logger    *slog.Logger
	// PublicBaseURL prefixes links in mails, e.g. "https://gdpr.example.com".
	PublicBaseURL string
	// ResendInterval is the least time between two confirmation mails to one address.
	ResendInterval time.Duration
}

// Service applies every rule of the product. HTTP handlers, queue consumers and timers are
// thin shells around its methods.
type Service struct {
	store     Store
	queue     Queue
	mailer    Mailer
	blobs     Blobs
	passwords PasswordHasher
	hasher    *Hasher
	clock     Clock
	log       *slog.Logger
	baseURL   string
	resend    time.Duration
}

// NewService checks that every dependency is present.
func NewService(d Deps) (*Service, error) {
	switch {
	case d.Store == nil, d.Queue == nil, d.Mailer == nil, d.Blobs == nil, d.Passwords == nil, d.Hasher == nil:
		return nil, errors.New("gdpr: NewService needs Store, Queue, Mailer, Blobs, Passwords and Hasher")
	}
	if d.Clock == nil {
		d.Clock = SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.ResendInterval <= 0 {
		d.ResendInterval = time.Minute
	}
	return &Service{
		store: d.Store, queue: d.Queue, mailer: d.Mailer, blobs: d.Blobs, passwords: d.Passwords,
		hasher: d.Hasher, clock: d.Clock, log: d.Logger,
		baseURL: strings.TrimRight(d.PublicBaseURL, "/"), resend: d.ResendInterval,
	}, nil
}

// Now is the service clock.
func (s *Service) Now() time.Time { return s.clock.Now() }

// brand loads a brand, mapping a missing one to a client-facing not-found.
func (s *Service) brand(ctx context.Context, id BrandID) (Brand, error) {
	if !id.Valid() {
		return Brand{}, Errorf(CodeNotFound, "unknown brand")
	}
	b, err := s.store.GetBrand(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Brand{}, Errorf(CodeNotFound, "unknown brand")
	}
	if err != nil {
		return Brand{}, err
	}
	b.Retention = b.Retention.WithDefaults()
	return b, nil
}

// activeBrand is a brand whose contract has not ended: ended brands accept no new data.
func (s *Service) activeBrand(ctx context.Context, id BrandID) (Brand, error) {
	b, err := s.brand(ctx, id)
	if err == nil && b.Ended() {
		return Brand{}, Errorf(CodeForbidden, "the brand's contract has ended")
	}
	return b, err
}

// retry runs fn again while it fails with a version conflict: the read-decide-write loop of
// optimistic concurrency. fn must re-read what it decides on.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for range 8 {
		if err = fn(); !errors.Is(err, ErrConflict) {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
	}
	return err
}
