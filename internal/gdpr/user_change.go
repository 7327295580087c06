package gdpr

import (
	"context"
	"errors"
)

// errUnchanged tells a read-decide-write loop (changeUser, changeMemberContact) that the
// document is already as asked: nothing to write.
var errUnchanged = errors.New("unchanged")

// changeUser is the read-decide-write loop of optimistic concurrency for one user: it reads
// the user, lets change decide on the fresh copy, recomputes the due index and writes it back
// guarded by the version read, starting over on a conflict.
func (s *RetentionService) changeUser(ctx context.Context, b Brand, id string, change func(*User) error) (User, error) {
	var out User
	err := retry(ctx, func() error {
		u, err := getUser(ctx, s.users, b.ID, id)
		if err != nil {
			return err
		}
		if err := change(&u); err != nil {
			if errors.Is(err, errUnchanged) {
				out, err = u, nil
			}
			return err
		}
		u.NextReviewAt = NextReview(u, b)
		out, err = s.users.UpdateUser(ctx, u)
		return err
	})
	return out, err
}
