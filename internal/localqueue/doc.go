// Package localqueue stands in for Azure Service Bus when popsell-gdpr runs in local mode: one
// process, no cloud, and the same at-least-once contract the consumers are written against.
//
// Messages live in their own SQLite file rather than in the embedded store, so queue churn
// (every delivery is a write) never competes with, or bloats, the data that erasure scrubs;
// and so the queue can be thrown away without touching user data.
//
// Semantics follow Service Bus where the service depends on them:
//   - A delivery locks the message for Options.VisibilityTimeout. If the handler neither
//     completes nor fails it in time (a crash, a hang), the lock lapses and the message is
//     delivered again, so consumers must be idempotent — they already are for Service Bus.
//   - DeliveryCount counts lock acquisitions, not handler errors, so a message that kills the
//     process every time it is handled is still dead-lettered after Options.MaxDeliveries.
//   - A dead-lettered message is kept for inspection with only a failure class, never the
//     error text or panic value: those can carry personal data, and a dead letter outlives
//     the erasure of the subject it names.
//
// Due times are read from Options.Now, the service clock, so moving a test clock years ahead
// makes scheduled jobs due at once. Locks use the wall clock instead: a clock jump must not
// expire every lock at once and run every in-flight job twice.
//
// The file belongs to one process: it is opened with an exclusive SQLite lock, which is what
// makes it safe for Open to release the locks a crashed predecessor left behind.
package localqueue
