// Package logging builds the root logger of Orion's commands (the server,
// the agent, the bench) from their --log-level and --log-format flags.
package logging

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/hashicorp/go-hclog"
)

// New builds the process's root logger; subsystems call Named on it. The
// standard library's log package is routed through it too.
func New(name, level string, json bool, w io.Writer) hclog.Logger {
	if w == nil {
		w = os.Stderr
	}
	l := hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.LevelFromString(level),
		JSONFormat: json,
		Output:     w,
		TimeFormat: "2006-01-02T15:04:05.000Z0700",
	})
	log.SetOutput(l.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}))
	log.SetFlags(0)
	return l
}

// ParseFormat reports whether a --log-format value asks for JSON logs.
func ParseFormat(v string) (bool, error) {
	switch v {
	case "json":
		return true, nil
	case "text":
		return false, nil
	default:
		return false, fmt.Errorf("--log-format %q is not text or json", v)
	}
}

// EnvOr is the environment variable key, or def when it is unset or empty:
// the default of a flag that an ORION_* variable can also set.
func EnvOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
