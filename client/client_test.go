package client

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestTarget(t *testing.T) {
	tests := map[string]struct {
		target string
		tls    bool
	}{
		"http://127.0.0.1:4200":     {"127.0.0.1:4200", false},
		"http://localhost:4200/api": {"localhost:4200", false},
		"127.0.0.1:9000":            {"127.0.0.1:9000", false},
		"http://orion":              {"orion:80", false},
		"https://orion":             {"orion:443", true},
		"https://orion:4200":        {"orion:4200", true},
	}
	for in, want := range tests {
		if got, useTLS, err := Target(in); err != nil || got != want.target || useTLS != want.tls {
			t.Errorf("Target(%q) = %q, %v, %v; want %v", in, got, useTLS, err, want)
		}
	}
	for _, bad := range []string{"ftp://x:1", "http://"} {
		if _, _, err := Target(bad); err == nil {
			t.Errorf("Target(%q) accepted", bad)
		}
	}
}

func TestAPIURL(t *testing.T) {
	t.Setenv(EnvAPIURL, "http://10.0.0.1:4200")
	if got := APIURL(""); got != "http://10.0.0.1:4200" {
		t.Fatalf("env not used: %s", got)
	}
	if got := APIURL("http://x:1"); got != "http://x:1" {
		t.Fatalf("flag not preferred: %s", got)
	}
	t.Setenv(EnvAPIURL, "")
	if got := APIURL(""); got != DefaultAPIURL {
		t.Fatalf("default: %s", got)
	}
}

func TestCodeHelpers(t *testing.T) {
	if !IsNotFound(status.Error(codes.NotFound, "x")) || IsNotFound(nil) {
		t.Fatal("IsNotFound")
	}
	if !IsLeaseLost(status.Error(codes.Aborted, "x")) || !IsUnavailable(status.Error(codes.Unavailable, "x")) {
		t.Fatal("code helpers")
	}
	if Code(context.Canceled) != codes.Canceled || Code(errors.New("x")) != codes.Unknown {
		t.Fatal("Code")
	}
	if Message(status.Error(codes.InvalidArgument, "name is required")) != "name is required" {
		t.Fatal("Message")
	}
}

func TestHome(t *testing.T) {
	t.Setenv(EnvHome, "/tmp/orion-home")
	if Home() != "/tmp/orion-home" {
		t.Fatal(Home())
	}
}
