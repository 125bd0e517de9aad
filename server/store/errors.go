package store

import "fmt"

// invalidError is a validation failure whose message is shown to the user as
// is; errors.Is(err, ErrInvalid) holds.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// Invalidf returns a validation error that names the field and the fix, e.g.
// Invalidf("deployment.name is required"). It matches ErrInvalid.
func Invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// notFoundError is a missing record whose message names it.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// NotFoundf returns an error matching ErrNotFound with the given message,
// e.g. NotFoundf("deployment %q not found", id).
func NotFoundf(format string, args ...any) error {
	return &notFoundError{msg: fmt.Sprintf(format, args...)}
}

// conflictError is a request that conflicts with a record's current state.
type conflictError struct{ msg string }

func (e *conflictError) Error() string        { return e.msg }
func (e *conflictError) Is(target error) bool { return target == ErrConflict }

// Conflictf returns an error matching ErrConflict with the given message.
func Conflictf(format string, args ...any) error {
	return &conflictError{msg: fmt.Sprintf(format, args...)}
}

// existsError is a unique-key conflict whose message names the record.
type existsError struct{ msg string }

func (e *existsError) Error() string        { return e.msg }
func (e *existsError) Is(target error) bool { return target == ErrAlreadyExists }

// AlreadyExistsf returns an error matching ErrAlreadyExists with the given message.
func AlreadyExistsf(format string, args ...any) error {
	return &existsError{msg: fmt.Sprintf(format, args...)}
}
