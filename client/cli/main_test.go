package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestReport_ExitCodes(t *testing.T) {
	const url = "http://orion.example:4200"
	notFound := status.Error(codes.NotFound, "deployment abc not found")
	unavailable := status.Error(codes.Unavailable, "connection error: desc = \"transport: dial tcp: connection refused\"")
	tests := []struct {
		name        string
		err         error
		interrupted bool
		code        int
		stderr      string
	}{
		{name: "success", err: nil, code: 0, stderr: ""},
		{name: "plain error", err: errors.New("boom"), code: 1, stderr: "Error: boom\n"},
		{name: "gRPC error shows its message", err: notFound, code: 1, stderr: "Error: deployment abc not found\n"},
		{name: "wrapped gRPC error", err: fmt.Errorf("get: %w", notFound), code: 1, stderr: "Error: get: deployment abc not found\n"},
		{name: "apiError with prefix", err: apiErr(notFound, "cannot load"), code: 1, stderr: "Error: cannot load: deployment abc not found\n"},
		{name: "unreachable server", err: unavailable, code: 1,
			stderr: "Error: cannot reach the Orion server at " + url + ": is `orion server start` running?\n"},
		{name: "unreachable behind wrappers", err: exitCode1(apiErr(unavailable, "x")), code: 1,
			stderr: "Error: cannot reach the Orion server at " + url + ": is `orion server start` running?\n"},
		{name: "silent exit code", err: &ExitError{Code: 3}, code: 3, stderr: ""},
		{name: "exit code with message", err: &ExitError{Code: 2, Err: errors.New("bad usage")}, code: 2, stderr: "Error: bad usage\n"},
		{name: "exit code 0 with message still fails", err: &ExitError{Code: 0, Err: errors.New("odd")}, code: 1, stderr: "Error: odd\n"},
		{name: "multi-line message becomes one line", err: errors.New("first\n\n  second\n"), code: 1, stderr: "Error: first second\n"},
		{name: "interrupted", err: status.Error(codes.Canceled, "context canceled"), interrupted: true, code: 130, stderr: "Error: interrupted\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if code := report(&buf, url, tt.err, tt.interrupted); code != tt.code {
				t.Errorf("code = %d, want %d", code, tt.code)
			}
			if buf.String() != tt.stderr {
				t.Errorf("stderr = %q, want %q", buf.String(), tt.stderr)
			}
		})
	}
}

func TestMain_CommandTree(t *testing.T) {
	env := newEnv(t, nil)

	r := env.mustRun(1, "deployment", "frobnicate")
	equalLines(t, r.stderr, "Error: unknown command 'frobnicate' for 'orion deployment' (see 'orion deployment --help')")

	r = env.mustRun(1, "nope")
	equalLines(t, r.stderr, "Error: unknown command 'nope' for 'orion' (see 'orion --help')")

	r = env.mustRun(1, "deployment", "ls", "--bogus")
	equalLines(t, r.stderr, "Error: unknown flag: --bogus (see 'orion deployment ls --help')")

	r = env.mustRun(1, "flow-run", "inspect", "a", "b")
	if !strings.HasPrefix(r.stderr, "Error: too many arguments: expected ID (usage: orion flow-run inspect ID") {
		t.Errorf("stderr = %q", r.stderr)
	}

	r = env.mustRun(1, "deployment", "ls", "extra")
	equalLines(t, r.stderr, "Error: unexpected argument 'extra' (usage: orion deployment ls)")

	r = env.mustRun(0, "flow-run")
	if !strings.Contains(r.stdout, "Available Commands:") || !strings.Contains(r.stdout, "logs") {
		t.Errorf("group help = %q", r.stdout)
	}

	r = env.mustRun(0, "deployment", "--help")
	for _, sub := range []string{"create", "ls", "inspect", "run", "execute", "delete"} {
		if !strings.Contains(r.stdout, "  "+sub+" ") {
			t.Errorf("deployment help lacks %q:\n%s", sub, r.stdout)
		}
	}
}

func TestMain_Extensions(t *testing.T) {
	ran := false
	env := newEnv(t, nil)
	env.ext.Commands = []*cobra.Command{{
		Use: "server",
		RunE: func(*cobra.Command, []string) error {
			ran = true
			return &ExitError{Code: 4}
		},
	}}
	env.mustRun(4, "server")
	if !ran {
		t.Error("extension command did not run")
	}
}

func TestNewRootCommand_APIURL(t *testing.T) {
	t.Setenv("ORION_API_URL", "http://from-env:1234")
	root := NewRootCommand(Extensions{})
	if got := rootAPIURL(root); got != "http://from-env:1234" {
		t.Errorf("default from env = %q", got)
	}
	if err := root.PersistentFlags().Set(apiURLFlag, "http://flag:1"); err != nil {
		t.Fatal(err)
	}
	if got := rootAPIURL(root); got != "http://flag:1" {
		t.Errorf("flag = %q", got)
	}
	if !root.SilenceErrors || !root.SilenceUsage || root.Use != "orion" {
		t.Error("root must be 'orion' and silence cobra's own error and usage output")
	}

	t.Setenv("ORION_API_URL", "")
	if got := rootAPIURL(NewRootCommand(Extensions{})); got != "http://127.0.0.1:4200" {
		t.Errorf("default = %q", got)
	}
}

func TestMain_Unreachable(t *testing.T) {
	env := newEnv(t, nil)
	env.url = deadURL(t)
	for _, args := range [][]string{
		{"deployment", "ls"},
		{"deployment", "inspect", "a/b"},
		{"flow-run", "logs", "x"},
	} {
		r := env.mustRun(1, args...)
		equalLines(t, r.stderr, "Error: cannot reach the Orion server at "+env.url+": is `orion server start` running?")
	}
}
