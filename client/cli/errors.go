package cli

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/orion-run/orion/client"
)

// ExitError asks Main to exit with Code. When Err is nil the command has
// already reported the failure and Main prints nothing more.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// exitCode1 wraps err (which may be nil) so that Main exits with 1.
func exitCode1(err error) error { return &ExitError{Code: 1, Err: err} }

// apiError prints a gRPC error by its message only, optionally after a
// prefix, while keeping the error reachable for client.Code (errors.As).
type apiError struct {
	prefix string
	err    error
}

func (e *apiError) Error() string {
	if e.prefix == "" {
		return client.Message(e.err)
	}
	return e.prefix + ": " + client.Message(e.err)
}

func (e *apiError) Unwrap() error { return e.err }

// apiErr wraps a call's error for display; nil stays nil.
func apiErr(err error, prefix string) error {
	if err == nil {
		return nil
	}
	return &apiError{prefix: prefix, err: err}
}

// exitInterrupted is the conventional exit code after SIGINT.
const exitInterrupted = 130

// grpcPrefix matches the prefix grpc-go puts in front of a status message
// when a status error is formatted with %v or wrapped with %w.
var grpcPrefix = regexp.MustCompile(`rpc error: code = \w+ desc = `)

// report prints err as one line on w and returns the exit code.
func report(w io.Writer, apiURL string, err error, interrupted bool) int {
	if err == nil {
		return 0
	}
	code := 1
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	}
	var msg string
	switch {
	case client.IsUnavailable(err):
		msg = fmt.Sprintf("cannot reach the Orion server at %s: is `orion server start` running?", apiURL)
	case interrupted:
		msg, code = "interrupted", exitInterrupted
	default:
		msg = errorText(err)
	}
	if code == 0 {
		code = 1
	}
	fmt.Fprintf(w, "Error: %s\n", oneLine(msg))
	return code
}

// errorText is err's message without gRPC's "rpc error: code = ..." noise,
// which also appears when a status error was wrapped with %w.
func errorText(err error) string {
	return grpcPrefix.ReplaceAllString(err.Error(), "")
}

// oneLine joins a multi-line message into one line.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}
