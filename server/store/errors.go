package store

import (
	"fmt"
	"strings"
)

// oneLine formats a user-facing message and keeps it on one line: values
// quoted into it (a cron expression, an rrule) may hold line breaks.
func oneLine(format string, args ...any) string {
	return lineBreaks.Replace(fmt.Sprintf(format, args...))
}

// lineBreaks escapes line breaks (a Replacer is safe for concurrent use).
var lineBreaks = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

// invalidError is a validation failure whose message is shown to the user as
// is; errors.Is(err, ErrInvalid) holds.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// Invalidf returns a validation error that names the field and the fix, e.g.
// Invalidf("deployment.name is required"). It matches ErrInvalid.
func Invalidf(format string, args ...any) error {
	return &invalidError{msg: oneLine(format, args...)}
}

// notFoundError is a missing record whose message names it.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// NotFoundf returns an error matching ErrNotFound with the given message,
// e.g. NotFoundf("deployment %q not found", id).
func NotFoundf(format string, args ...any) error {
	return &notFoundError{msg: oneLine(format, args...)}
}

// conflictError is a request that conflicts with a record's current state.
type conflictError struct{ msg string }

func (e *conflictError) Error() string        { return e.msg }
func (e *conflictError) Is(target error) bool { return target == ErrConflict }

// Conflictf returns an error matching ErrConflict with the given message.
func Conflictf(format string, args ...any) error {
	return &conflictError{msg: oneLine(format, args...)}
}

// existsError is a unique-key conflict whose message names the record.
type existsError struct{ msg string }

func (e *existsError) Error() string        { return e.msg }
func (e *existsError) Is(target error) bool { return target == ErrAlreadyExists }

// AlreadyExistsf returns an error matching ErrAlreadyExists with the given message.
func AlreadyExistsf(format string, args ...any) error {
	return &existsError{msg: oneLine(format, args...)}
}
