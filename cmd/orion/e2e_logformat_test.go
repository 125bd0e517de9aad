package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEndToEnd_JSONLogs starts a server with --log-format json and an agent
// with ORION_LOG_FORMAT=json, and checks that every log line each writes is
// a JSON object from a named orion logger; a bad --log-format is refused in
// one line.
func TestEndToEnd_JSONLogs(t *testing.T) {
	e := newEnv(t)
	server := e.startServer("--log-format", "json")
	agent := e.with("ORION_LOG_FORMAT=json").startAgent("--name", "json-agent")
	agent.stop(t)
	server.stop(t)
	for name, p := range map[string]*proc{"server": server, "agent": agent} {
		var logged int
		for _, line := range strings.Split(p.output(), "\n") {
			if strings.Contains(line, "[INFO]") || strings.Contains(line, "[WARN]") || strings.Contains(line, "[ERROR]") {
				t.Errorf("%s wrote a text log line: %s", name, line)
			}
			if !strings.HasPrefix(line, "{") {
				continue // the human banner on stdout
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Errorf("%s log line is not JSON: %s", name, line)
				continue
			}
			if mod, _ := rec["@module"].(string); !strings.HasPrefix(mod, "orion") {
				t.Errorf("%s log line without an orion @module: %s", name, line)
			}
			logged++
		}
		if logged == 0 {
			t.Errorf("%s wrote no JSON log line:\n%s", name, p.output())
		}
	}

	r := e.run("agent", "start", "--log-format", "xml")
	if r.code == 0 || strings.TrimSpace(r.stderr) != `Error: --log-format "xml" is not text or json` {
		t.Errorf("agent start --log-format xml: exit %d, stderr %q", r.code, r.stderr)
	}
}
