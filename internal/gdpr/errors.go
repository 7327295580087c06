package gdpr

import (
	"errors"
	"fmt"
)

// Code classifies a domain error. The HTTP layer maps each code to a status in one place;
// the domain never speaks HTTP.
type Code string

const (
	CodeInvalid         Code = "invalid"             // the input breaks a rule of its shape
	CodeUnauthenticated Code = "unauthenticated"     // credentials missing or wrong
	CodeForbidden       Code = "forbidden"           // authenticated (or anonymous) but not allowed
	CodeNotFound        Code = "not_found"           // no such brand, member, token...
	CodeConflict        Code = "conflict"            // stale version, duplicate, or a state that forbids it
	CodeGone            Code = "gone"                // expired or already used (tokens)
	CodePrecondition    Code = "precondition_failed" // the resource changed since the version the caller named
	CodeTooMany         Code = "too_many"            // rate limited
	CodeNotImplemented  Code = "not_implemented"     // a route this mode does not serve (queue counts in Azure mode)
	CodeUnavailable     Code = "unavailable"         // a dependency failed; retrying may help
	CodeInternal        Code = "internal"            // a bug
)

// Error is a domain error. Message is shown to clients and logged, so it must never contain
// personal data: name the field, never echo its value.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, for logs; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error. Arguments must not be personal data.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinel errors the store ports return; compare with errors.Is.
var (
	ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict = &Error{Code: CodeConflict, Message: "version conflict"}
)

// ErrUndeliverable marks a mail its provider refused for good: a bad address, an
// unauthorised sender, a broken template. Retrying cannot help; the job is dead-lettered.
var ErrUndeliverable = errors.New("undeliverable mail")

// ErrRecipientRefused is the refusal for good that names the recipient's address (Mailjet:
// an error related to To[0].Email, such as mj-0013 "invalid email address"): the address is at
// fault, not the mail or the account, so its subject is marked undeliverable (issue 21). It
// matches ErrUndeliverable too. A refusal of the sender, the template or the keys is not
// one: it says nothing of the address, and marking every recipient for it would stop their
// mail for good over a configuration fix.
var ErrRecipientRefused = fmt.Errorf("%w: the recipient's address was refused", ErrUndeliverable)

// Is makes errors.Is(err, ErrNotFound) true for any *Error with the same code, so adapters can
// return richer messages and callers still match.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t == ErrNotFound || t == ErrConflict) && t.Code == e.Code
}

// ErrorCode returns the Code of err, CodeInternal for anything that is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
