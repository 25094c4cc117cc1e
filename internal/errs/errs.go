// Package errs holds the short, append-only list of error kinds that carry
// meaning across Ryorin. Domain code returns them; the api and web packages map
// them to HTTP status codes in one place. It imports nothing of ours.
package errs

import (
	"errors"
	"fmt"
)

// Kind is the class of an error. The list is append-only.
type Kind string

// The error kinds.
const (
	Invalid         Kind = "invalid"         // malformed input: 400
	Unprocessable   Kind = "unprocessable"   // well-formed but breaks a rule: 422
	NotFound        Kind = "not_found"       // 404
	Conflict        Kind = "conflict"        // 409
	Forbidden       Kind = "forbidden"       // 403
	Unauthenticated Kind = "unauthenticated" // 401
	TooLarge        Kind = "too_large"       // 413
	RateLimited     Kind = "rate_limited"    // 429
	Internal        Kind = "internal"        // 500
)

// Error is an error with a kind, an optional field it is about, and a message
// that is safe to show to the caller.
type Error struct {
	Kind    Kind
	Field   string // the input field at fault, if any (e.g. "email", "props.budget")
	Message string
	// ExistingID names the record that caused a conflict, when there is one.
	ExistingID int64
	Err        error // the wrapped cause, never shown to callers
}

func (e *Error) Error() string {
	s := string(e.Kind)
	if e.Field != "" {
		s += " " + e.Field
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of kind k about field with a message.
func E(k Kind, field, format string, args ...any) *Error {
	return &Error{Kind: k, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Field is shorthand for an Invalid error naming a field.
func Field(field, format string, args ...any) *Error {
	return E(Invalid, field, format, args...)
}

// Rule is shorthand for an Unprocessable error naming a field.
func Rule(field, format string, args ...any) *Error {
	return E(Unprocessable, field, format, args...)
}

// NotFoundf is shorthand for a NotFound error.
func NotFoundf(format string, args ...any) *Error {
	return E(NotFound, "", format, args...)
}

// KindOf returns the kind of err, or Internal when it carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return KindOf(err) == k }
