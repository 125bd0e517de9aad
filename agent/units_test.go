package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/sdk/python"
	"github.com/orion-run/orion/server/validate"
)

// TestBoundedMessage: a state message over the server's limit is cut to it
// on a character boundary, keeping its beginning and saying how long it was;
// one within the limit is sent as it is.
func TestBoundedMessage(t *testing.T) {
	if maxStateMessage != validate.MaxStateMessage {
		t.Fatalf("maxStateMessage = %d, the server allows %d", maxStateMessage, validate.MaxStateMessage)
	}
	short := &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_FAILED, Message: "ValueError: boom"}
	if got := boundedMessage(short); got != short {
		t.Fatalf("a short message was changed: %v", got)
	}
	exact := &orionv1.StateProposal{Message: strings.Repeat("x", maxStateMessage)}
	if got := boundedMessage(exact); got != exact {
		t.Fatal("a message of exactly the limit was changed")
	}
	for _, unit := range []string{"x", "é", "€", "😀"} {
		long := "ValueError: " + strings.Repeat(unit, 2*maxStateMessage/len(unit))
		p := &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_FAILED, Message: long}
		got := boundedMessage(p)
		m := got.GetMessage()
		if err := validate.State("state", got); err != nil {
			t.Fatalf("%q: the server would refuse the cut message: %v", unit, err)
		}
		if !utf8.ValidString(m) || !strings.HasPrefix(m, "ValueError: "+unit) || len(m) < maxStateMessage-len(unit)-1-80 {
			t.Fatalf("%q: cut message of %d bytes, valid %v, starts %q", unit, len(m), utf8.ValidString(m), m[:20])
		}
		if want := fmt.Sprintf("(cut: the message was %d bytes; %d are kept)", len(long), maxStateMessage); !strings.HasSuffix(m, want) {
			t.Fatalf("%q: message ends %q, want %q", unit, m[len(m)-80:], want)
		}
		if p.GetMessage() != long || got.GetType() != p.GetType() {
			t.Fatal("the proposal passed in was modified, or the copy lost its type")
		}
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv(
		[]string{"PATH=/bin", "HOME=/root", "ORION_API_URL=old"},
		map[string]string{"HOME": "/home/flow", "B": "2", "A": "1"},
		map[string]string{"ORION_API_URL": "http://new", "A": "override"},
	)
	want := "PATH=/bin HOME=/home/flow ORION_API_URL=http://new A=override B=2"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
}

func TestParameterEnv(t *testing.T) {
	s := mustStruct(map[string]any{
		"name": "x y", "count": 3, "ratio": 0.5, "big": 1e20, "ok": true,
		"nothing": nil, "list": []any{1, 2}, "obj": map[string]any{"a": 1}, "dash-ed.key": "v",
	})
	params, err := parametersJSON(s)
	if err != nil {
		t.Fatal(err)
	}
	env := parameterEnv(s, params)
	want := map[string]string{
		"ORION_PARAMETERS":        string(params),
		"ORION_PARAM_NAME":        "x y",
		"ORION_PARAM_COUNT":       "3",
		"ORION_PARAM_RATIO":       "0.5",
		"ORION_PARAM_BIG":         "1e+20",
		"ORION_PARAM_OK":          "true",
		"ORION_PARAM_DASH_ED_KEY": "v",
	}
	if len(env) != len(want) {
		t.Fatalf("got %v", env)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if b, _ := parametersJSON(nil); string(b) != "{}" {
		t.Fatalf("nil parameters encode as %s", b)
	}
	huge := parameterEnv(s, make([]byte, maxParametersEnv+1))
	if _, ok := huge["ORION_PARAMETERS"]; ok {
		t.Fatal("oversized ORION_PARAMETERS set")
	}
}

func TestFinalState(t *testing.T) {
	for _, tc := range []struct {
		name    string
		exit    runner.ExitResult
		reason  stopReason
		waitErr error
		py      *python.RunResult
		want    orionv1.StateType
		message string
		code    *int32
	}{
		{"exit 0", runner.ExitResult{}, stopNone, nil, nil, orionv1.StateType_STATE_TYPE_COMPLETED, "", ptr(0)},
		{"exit 0 python", runner.ExitResult{}, stopNone, nil, &python.RunResult{State: "COMPLETED", Message: "Flow run completed."}, orionv1.StateType_STATE_TYPE_COMPLETED, "Flow run completed.", ptr(0)},
		{"exit 2", runner.ExitResult{ExitCode: 2}, stopNone, nil, nil, orionv1.StateType_STATE_TYPE_FAILED, "Process exited with code 2", ptr(2)},
		{"exit 1 python", runner.ExitResult{ExitCode: 1}, stopNone, nil, &python.RunResult{State: "FAILED", Message: "ValueError: x"}, orionv1.StateType_STATE_TYPE_FAILED, "ValueError: x", ptr(1)},
		{"signal", runner.ExitResult{ExitCode: -1, Signal: "SIGKILL"}, stopNone, nil, nil, orionv1.StateType_STATE_TYPE_CRASHED, "Process was killed by signal SIGKILL", nil},
		{"wait error", runner.ExitResult{}, stopNone, errors.New("boom"), nil, orionv1.StateType_STATE_TYPE_CRASHED, "Lost track of the flow run's process: boom", nil},
		{"cancelled", runner.ExitResult{ExitCode: -1, Signal: "SIGTERM"}, stopCancel, nil, nil, orionv1.StateType_STATE_TYPE_CANCELLED, msgCancelled, nil},
		{"shutdown", runner.ExitResult{ExitCode: 0}, stopShutdown, nil, nil, orionv1.StateType_STATE_TYPE_CRASHED, msgAgentStopped, nil},
		{"interrupted", runner.ExitResult{ExitCode: -1, Signal: "SIGTERM"}, stopInterrupt, nil, nil, orionv1.StateType_STATE_TYPE_CRASHED, msgInterrupted, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := finalState(tc.exit, tc.reason, tc.waitErr, tc.py)
			if p.GetType() != tc.want || p.GetMessage() != tc.message {
				t.Fatalf("got %v, want %v %q", p, tc.want, tc.message)
			}
			if (p.ExitCode == nil) != (tc.code == nil) || (tc.code != nil && p.GetExitCode() != *tc.code) {
				t.Fatalf("exit code %v, want %v", p.ExitCode, tc.code)
			}
		})
	}
	if p := finalState(runner.ExitResult{}, stopLost, nil, nil); p != nil {
		t.Fatalf("lost lease proposes %v", p)
	}
}

func ptr(v int32) *int32 { return &v }

func TestBackoff(t *testing.T) {
	b := newBackoff(100*time.Millisecond, 10*time.Second)
	ceil := 100 * time.Millisecond
	for i := 0; i < 12; i++ {
		d := b.next()
		if d < ceil/2 || d > ceil {
			t.Fatalf("step %d: %v outside [%v, %v]", i, d, ceil/2, ceil)
		}
		ceil = min(2*ceil, 10*time.Second)
	}
	b.reset()
	if d := b.next(); d > 100*time.Millisecond {
		t.Fatalf("after reset: %v", d)
	}
}

func TestBacklog(t *testing.T) {
	var b backlog
	for i := 0; i < maxBacklog+5; i++ {
		b.add(&orionv1.FlowRun{Id: fmt.Sprint(i)})
		b.add(&orionv1.FlowRun{Id: fmt.Sprint(i)})
	}
	if len(b.order) != maxBacklog || !b.overflowed {
		t.Fatalf("backlog holds %d, overflowed %v", len(b.order), b.overflowed)
	}
	if r := b.pop(); r.GetId() != "0" {
		t.Fatalf("popped %q first", r.GetId())
	}
	b.add(&orionv1.FlowRun{Id: "0"}) // popped ids may come back
	if len(b.order) != maxBacklog {
		t.Fatalf("re-adding a popped run: %d", len(b.order))
	}
	b.clear()
	if b.pop() != nil || b.overflowed {
		t.Fatal("clear left entries")
	}
}

func TestConfig_ValidateAndDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"full", Config{Name: "agent-1.a_b", WorkQueues: []string{"q"}, Limit: 2, APIURL: "http://127.0.0.1:4200"}, true},
		{"bad name", Config{Name: "../etc"}, false},
		{"empty queue", Config{WorkQueues: []string{" "}}, false},
		{"negative limit", Config{Limit: -1}, false},
		{"negative grace", Config{StopGrace: -time.Second}, false},
		{"bad url", Config{APIURL: "ftp://x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	c := Config{Home: "/h"}.withDefaults()
	if c.Name == "" || !namePattern.MatchString(c.Name) || !c.nameDefaulted {
		t.Fatalf("default name %q", c.Name)
	}
	if len(c.WorkQueues) != 1 || c.WorkQueues[0] != DefaultWorkQueue || c.Runners == nil || c.StopGrace != DefaultStopGrace {
		t.Fatalf("defaults %+v", c)
	}
	if got := c.Runners.Types(); strings.Join(got, ",") != "docker,kubernetes,noop,subprocess" {
		t.Fatalf("default runners %v", got)
	}
}

// fakeLogs is a LogServiceClient that records batches and fails on demand.
type fakeLogs struct {
	orionv1.LogServiceClient
	mu      sync.Mutex
	batches [][]*orionv1.Log
	fail    int // fail this many calls first
	calls   int
}

func (f *fakeLogs) CreateLogs(_ context.Context, req *orionv1.CreateLogsRequest, _ ...grpc.CallOption) (*orionv1.CreateLogsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail > 0 {
		f.fail--
		return nil, status.Error(codes.Unavailable, "down")
	}
	f.batches = append(f.batches, req.GetLogs())
	return &orionv1.CreateLogsResponse{Count: int32(len(req.GetLogs()))}, nil
}

// neverAfter never fires: flushes happen only by batch size or close.
func neverAfter(time.Duration) <-chan time.Time { return nil }

// nowAfter fires at once (retry backoff without waiting).
func nowAfter(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}

func TestLogShipper_BatchesInOrder(t *testing.T) {
	fl := &fakeLogs{fail: 1}
	after := func(d time.Duration) <-chan time.Time {
		if d == logFlushInterval {
			return nil // no timed flushes: only full batches and close
		}
		return nowAfter(d)
	}
	s := newLogShipper(context.Background(), fl, "run-1", time.Now, after, hclog.NewNullLogger())
	for i := 0; i < 250; i++ {
		s.add("stdout", levelInfo, fmt.Sprintf("line %d", i))
	}
	s.add("stderr", levelError, "bad \xff utf8")
	s.close()
	s.close() // idempotent

	var all []string
	for _, b := range fl.batches {
		if len(b) > logBatchLines {
			t.Fatalf("batch of %d lines", len(b))
		}
		for _, l := range b {
			all = append(all, l.GetMessage())
		}
	}
	if len(all) != 251 || all[0] != "line 0" || all[249] != "line 249" || all[250] != "bad \uFFFD utf8" {
		t.Fatalf("shipped %d lines: first %q last %q", len(all), all[0], all[len(all)-1])
	}
	for i := 0; i < 250; i++ {
		if all[i] != fmt.Sprintf("line %d", i) {
			t.Fatalf("line %d out of order: %q", i, all[i])
		}
	}
	if fl.calls != len(fl.batches)+1 {
		t.Fatalf("%d calls for %d batches: the failed batch was not retried once", fl.calls, len(fl.batches))
	}
}

func TestLogShipper_BoundedBuffer(t *testing.T) {
	fl := &fakeLogs{}
	// The shipper's loop is not running yet, so the buffer fills up.
	s := &logShipper{logs: fl, runID: "run-1", clock: time.Now, after: neverAfter, logger: hclog.NewNullLogger(),
		kick: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	for i := 0; i < logBufferLines+10; i++ {
		s.add("stdout", levelInfo, "x")
	}
	go s.loop(context.Background())
	s.close()
	var lines int
	var notice string
	for _, b := range fl.batches {
		for _, l := range b {
			if l.GetName() == logNameAgent {
				notice = l.GetMessage()
				continue
			}
			lines++
		}
	}
	if lines != logBufferLines || !strings.HasPrefix(notice, "10 log lines were dropped") {
		t.Fatalf("shipped %d lines, notice %q", lines, notice)
	}
}
