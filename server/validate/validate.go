// Package validate checks requests before they reach the store: names,
// tags, parameter documents, free text, environments and log lines. Every
// violation is a store.ErrInvalid error (gRPC InvalidArgument, HTTP 400)
// whose one-line message names the field and how to fix it.
//
// The limits keep any one request from growing the store or a later
// response without bound; they are generous for real use. Request-level
// checks (Deployment, FlowRun, ...) live in requests.go.
package validate

import (
	"fmt"
	"strings"
	"unicode"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/orion-run/orion/server/store"
)

// Limits. Names follow Prefect's rule (no / % & > <).
const (
	MaxNameLength      = 100
	MaxTags            = 100
	MaxTagLength       = 100
	MaxDocumentBytes   = 1 << 20 // a parameter document, encoded
	MaxDocumentDepth   = 32      // nesting of objects and lists
	MaxDescription     = 10_000
	MaxStateMessage    = 64 << 10
	MaxIdempotencyKey  = 256
	MaxEnvVars         = 256
	MaxEnvValue        = 32 << 10
	MaxCommandArgs     = 1024
	MaxCommandArgBytes = 32 << 10
	MaxLocation        = 4096 // a flow location (a path)
	MaxLogMessageSize  = 1_000_000
	MaxLogBatch        = 10_000
	MaxLogName         = 200
	MaxLogSource       = 128
	MaxReportLogs      = 100     // log lines carried by one state report
	MaxReportLogBytes  = 1 << 20 // their messages, in all
	MaxWorkQueues      = 100     // queues one agent serves
	MaxBatchCalls      = 100     // claims or reports in one batched agent call
)

// Name checks a flow, deployment, work queue, agent or token name.
func Name(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return store.Invalidf("%s is required", field)
	case len(name) > MaxNameLength:
		return store.Invalidf("%s is %d characters long; names are limited to %d", field, len(name), MaxNameLength)
	case strings.ContainsAny(name, "/%&><"):
		return store.Invalidf("%s %q must not contain any of / %% & > <", field, name)
	case hasControl(name):
		return store.Invalidf("%s %q must not contain control characters", field, name)
	}
	return nil
}

// OptionalName is Name for a field that may be empty.
func OptionalName(field, name string) error {
	if name == "" {
		return nil
	}
	return Name(field, name)
}

// Tags checks a list of tags: at most MaxTags, each non-empty, at most
// MaxTagLength characters, without control characters.
func Tags(field string, tags []string) error {
	if len(tags) > MaxTags {
		return store.Invalidf("%s has %d tags; at most %d are allowed", field, len(tags), MaxTags)
	}
	for i, t := range tags {
		switch {
		case strings.TrimSpace(t) == "":
			return store.Invalidf("%s[%d] is empty: remove it or give it a value", field, i)
		case len(t) > MaxTagLength:
			return store.Invalidf("%s[%d] is %d characters long; tags are limited to %d", field, i, len(t), MaxTagLength)
		case hasControl(t):
			return store.Invalidf("%s[%d] %q must not contain control characters", field, i, t)
		}
	}
	return nil
}

// Text checks free text (a description, a state message) against a length.
func Text(field, v string, max int) error {
	if len(v) > max {
		return store.Invalidf("%s is %d bytes; at most %d are allowed", field, len(v), max)
	}
	return nil
}

// Document checks a JSON document (parameters, infrastructure config): its
// encoded size and its nesting depth.
func Document(field string, s *structpb.Struct) error {
	if s == nil {
		return nil
	}
	if n := proto.Size(s); n > MaxDocumentBytes {
		return store.Invalidf("%s is %d bytes encoded; at most %d are allowed (pass large data by reference, e.g. a path or URL)", field, n, MaxDocumentBytes)
	}
	if d := structDepth(s, 0); d > MaxDocumentDepth {
		return store.Invalidf("%s nests deeper than %d levels", field, MaxDocumentDepth)
	}
	return nil
}

// structDepth returns the nesting depth of s, stopping early past the limit
// so a hostile document costs no more than the limit to check.
func structDepth(s *structpb.Struct, depth int) int {
	depth++
	if depth > MaxDocumentDepth {
		return depth
	}
	deepest := depth
	for _, v := range s.GetFields() {
		if d := valueDepth(v, depth); d > deepest {
			deepest = d
			if deepest > MaxDocumentDepth {
				return deepest
			}
		}
	}
	return deepest
}

func valueDepth(v *structpb.Value, depth int) int {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		return structDepth(k.StructValue, depth)
	case *structpb.Value_ListValue:
		depth++
		if depth > MaxDocumentDepth {
			return depth
		}
		deepest := depth
		for _, e := range k.ListValue.GetValues() {
			if d := valueDepth(e, depth); d > deepest {
				deepest = d
				if deepest > MaxDocumentDepth {
					return deepest
				}
			}
		}
		return deepest
	}
	return depth
}

// Env checks environment variables for a flow: valid names, bounded count
// and value size.
func Env(field string, env map[string]string) error {
	if len(env) > MaxEnvVars {
		return store.Invalidf("%s has %d variables; at most %d are allowed", field, len(env), MaxEnvVars)
	}
	for k, v := range env {
		if !envName(k) {
			return store.Invalidf("%s: %q is not a valid variable name (letters, digits and _, not starting with a digit)", field, k)
		}
		if len(v) > MaxEnvValue {
			return store.Invalidf("%s.%s is %d bytes; values are limited to %d", field, k, len(v), MaxEnvValue)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return store.Invalidf("%s.%s must not contain a NUL byte", field, k)
		}
	}
	return nil
}

func envName(k string) bool {
	if k == "" || len(k) > 256 {
		return false
	}
	for i, r := range k {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Command checks an argv.
func Command(field string, argv []string) error {
	if len(argv) > MaxCommandArgs {
		return store.Invalidf("%s has %d arguments; at most %d are allowed", field, len(argv), MaxCommandArgs)
	}
	for i, a := range argv {
		if len(a) > MaxCommandArgBytes {
			return store.Invalidf("%s[%d] is %d bytes; arguments are limited to %d", field, i, len(a), MaxCommandArgBytes)
		}
		if strings.IndexByte(a, 0) >= 0 {
			return store.Invalidf("%s[%d] must not contain a NUL byte", field, i)
		}
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// indexed names the i-th element of a repeated field.
func indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }
