package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/orion-run/orion/cmd/internal/godeps"
)

// TestDeps_AgentAlone: orion-agent links none of the server, the CLI, the
// JSON gateway or the metrics: an agent's memory is mostly its binary's
// pages, which is why orion-agent exists (docs/performance.md).
func TestDeps_AgentAlone(t *testing.T) {
	banned := []string{
		"github.com/orion-run/orion/server",
		"github.com/orion-run/orion/client/cli",
		"github.com/prometheus/",
		"k8s.io/client-go/kubernetes",
	}
	pkgs := godeps.List(t, ".")
	for _, pkg := range pkgs {
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, strings.TrimSuffix(b, "/")+"/") {
				t.Errorf("orion-agent links %s", pkg)
			}
		}
	}
	if !slices.Contains(pkgs, "github.com/orion-run/orion/agent") || !slices.Contains(pkgs, "github.com/orion-run/orion/agent/runner/process") {
		t.Fatalf("orion-agent does not link the agent and its subprocess runner: %v", pkgs)
	}
}

// TestRoot_Commands: the root has the start command with the agent's
// flags, and unknown flags are errors that name the fix.
func TestRoot_Commands(t *testing.T) {
	root := newRoot()
	start, _, err := root.Find([]string{"start"})
	if err != nil || start.Name() != "start" {
		t.Fatalf("no start command: %v", err)
	}
	for _, f := range []string{"work-queue", "name", "limit", "log-level", "log-format"} {
		if start.Flags().Lookup(f) == nil {
			t.Errorf("start has no --%s", f)
		}
	}
	if root.PersistentFlags().Lookup("api-url") == nil {
		t.Error("no --api-url")
	}
	root.SetArgs([]string{"start", "--bogus"})
	err = root.Execute()
	if err == nil || !strings.Contains(err.Error(), "unknown flag: --bogus (see 'orion-agent start --help')") {
		t.Fatalf("Execute(start --bogus) = %v", err)
	}
}
