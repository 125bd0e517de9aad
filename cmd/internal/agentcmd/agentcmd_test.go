package agentcmd

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestOptionsArgs: the command line handed to orion-agent parses back to
// the same options, with the API URL resolved and the deprecated
// --log-json turned into --log-format json.
func TestOptionsArgs(t *testing.T) {
	for _, o := range []options{
		{queues: []string{"default"}, logLevel: "info", logFormat: "text"},
		{queues: []string{"a", "b"}, name: "gpu box", limit: 7, logLevel: "debug", logFormat: "text", logJSON: true},
	} {
		args := o.args("https://orion.example:4200")
		if args[0] != "start" {
			t.Fatalf("args = %q", args)
		}
		cmd := Start("v1", false, func(*cobra.Command) string { return "" })
		cmd.PersistentFlags().String("api-url", "", "")
		if err := cmd.ParseFlags(args[1:]); err != nil {
			t.Fatalf("parse %q: %v", args, err)
		}
		get := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
		wantFormat := o.logFormat
		if o.logJSON {
			wantFormat = "json"
		}
		if get("api-url") != "https://orion.example:4200" || get("name") != o.name || get("limit") != strconv.Itoa(o.limit) ||
			get("log-level") != o.logLevel || get("log-format") != wantFormat {
			t.Errorf("args %q parsed to api-url=%s name=%s limit=%s log-level=%s log-format=%s",
				args, get("api-url"), get("name"), get("limit"), get("log-level"), get("log-format"))
		}
		if queues, _ := cmd.Flags().GetStringSlice("work-queue"); !slices.Equal(queues, o.queues) {
			t.Errorf("queues = %q, want %q", queues, o.queues)
		}
	}
}

// TestDelegate_NothingToHandOverTo: without orion-agent beside the running
// binary (the test binary), or with ORION_AGENT_IN_PROCESS set, Delegate
// returns nil and the agent runs in this process. (The hand-over itself
// replaces the process: cmd/orion's TestAgentBinary_* cover it.)
func TestDelegate_NothingToHandOverTo(t *testing.T) {
	if err := Delegate("v1", []string{"start"}); err != nil {
		t.Fatalf("Delegate without orion-agent = %v", err)
	}
	t.Setenv(EnvInProcess, "true")
	if err := Delegate("v1", []string{"start"}); err != nil {
		t.Fatalf("Delegate in process = %v", err)
	}
}

func TestCheckParentVersion(t *testing.T) {
	os.Unsetenv(envParentVersion) //nolint:errcheck
	if err := checkParentVersion("1.2.0"); err != nil {
		t.Fatalf("started directly: %v", err)
	}
	t.Setenv(envParentVersion, "1.2.0")
	if err := checkParentVersion("1.2.0"); err != nil {
		t.Fatalf("same version: %v", err)
	}
	if _, ok := os.LookupEnv(envParentVersion); ok {
		t.Fatal("the variable is left for the flow runs to inherit")
	}
	t.Setenv(envParentVersion, "1.1.0")
	err := checkParentVersion("1.2.0")
	if err == nil || !strings.Contains(err.Error(), "is version 1.2.0, but orion version 1.1.0 started it") {
		t.Fatalf("other version: %v", err)
	}
	if _, ok := os.LookupEnv(envParentVersion); ok {
		t.Fatal("the variable is left set after a refusal")
	}
}
