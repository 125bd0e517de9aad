package main

import (
	"io"
	"log"
	"os"

	"github.com/hashicorp/go-hclog"
)

// newLogger builds the process's root logger; subsystems call Named on it.
// The standard library's log package is routed through it too.
func newLogger(name, level string, json bool, w io.Writer) hclog.Logger {
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
