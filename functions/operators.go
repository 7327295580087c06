package main

import (
	"context"
	"errors"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/httpapi"
	"popsell-gdpr/internal/localqueue"
)

// healthProbe names what a deep health check reads: no brand has this id and no blob this
// key, so each check is one cheap not-found from the dependency.
const healthProbe = "popsell-health-probe"

// healthChecks are the dependencies GET /api/health?deep=1 reaches: a read each, whose
// not-found proves the dependency answers and our identity may read it.
func (a *App) healthChecks(ledger blobstore.CreateOnly) []httpapi.HealthCheck {
	checks := []httpapi.HealthCheck{
		{Name: "store", Check: func(ctx context.Context) error {
			_, err := a.Store.GetBrand(ctx, healthProbe)
			return notFoundIsHealthy(err)
		}},
		{Name: "blobs", Check: func(ctx context.Context) error {
			_, err := a.Blobs.Exists(ctx, "health/"+healthProbe)
			return err
		}},
		{Name: "ledger", Check: func(ctx context.Context) error {
			_, err := ledger.Get(ctx, "health/"+healthProbe)
			return notFoundIsHealthy(err)
		}},
	}
	if a.Queue != nil {
		checks = append(checks, httpapi.HealthCheck{Name: "queue", Check: func(ctx context.Context) error {
			_, err := a.Queue.Stats(ctx)
			return err
		}})
	}
	return checks
}

func notFoundIsHealthy(err error) error {
	if errors.Is(err, gdpr.ErrNotFound) || errors.Is(err, blobstore.ErrNotFound) {
		return nil
	}
	return err
}

// localDeadLetters serves the dead-letter routes from local mode's embedded queue.
type localDeadLetters struct{ q *localqueue.Queue }

func (d localDeadLetters) ListDeadLetters(ctx context.Context, queue string) (any, error) {
	return d.q.DeadLetters(ctx, queue)
}

func (d localDeadLetters) ReplayDeadLetter(ctx context.Context, queue, ref string) error {
	return d.q.Requeue(ctx, queue, ref)
}
