package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/client"
)

// Fault-test timing: the server hands out 3 s leases and asks for a
// heartbeat every second, so every bound below is a few seconds.
const (
	faultLease     = 3 * time.Second
	faultHeartbeat = time.Second
	// faultPoll is how often a condition with no event to wait on (a run's
	// state on the server, a process's existence) is checked.
	faultPoll = 50 * time.Millisecond
)

// faultFlow is a command flow that records every execution: it appends
// "<run id> <pid> start" to the execution log, prints "tick <i>" every
// 0.2 s for $ORION_PARAM_STEPS steps, then appends "<run id> <pid> end".
const faultFlow = `echo "$ORION_FLOW_RUN_ID $$ start" >> "$ORION_PARAM_LOG"
i=0
while [ "$i" -lt "$ORION_PARAM_STEPS" ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done
echo "$ORION_FLOW_RUN_ID $$ end" >> "$ORION_PARAM_LOG"`

// cluster is a real server and agents as separate orion processes on
// loopback, sharing one ORION_HOME, with one deployment of faultFlow.
type cluster struct {
	t       *testing.T
	e       *env
	port    string
	server  *proc
	agents  map[string]*proc
	c       *client.Client
	execLog string
	depID   string
}

// newCluster starts a server (3 s leases, 1 s heartbeats) and creates the
// fault deployment. Agents are started by the test.
func newCluster(t *testing.T) *cluster {
	t.Setenv("ORION_LEASE_DURATION", faultLease.String())
	t.Setenv("ORION_HEARTBEAT_INTERVAL", faultHeartbeat.String())
	e := newEnv(t)
	c := &cluster{t: t, e: e, port: strconv.Itoa(e.port), agents: map[string]*proc{}}
	c.execLog = filepath.Join(t.TempDir(), "executions.log")
	c.startServer()
	cl, err := client.Dial(e.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	c.c = cl
	t.Cleanup(c.killOrphans)

	spec := filepath.Join(t.TempDir(), "fault.yaml")
	yaml := fmt.Sprintf("- name: slow\n  flow_name: fault\n  command: [\"/bin/sh\", \"-c\", %s]\n  parameters:\n    log: %s\n    steps: 10\n",
		strconv.Quote(faultFlow), strconv.Quote(c.execLog))
	if err := os.WriteFile(spec, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustRun("deployment", "create", spec)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	resp, err := cl.Deployments.GetDeploymentByName(ctx, &orionv1.GetDeploymentByNameRequest{FlowName: "fault", DeploymentName: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	c.depID = resp.GetDeployment().GetId()
	return c
}

func (c *cluster) startServer() {
	c.t.Helper()
	c.server = c.e.start("Orion server listening on", "server", "start", "--port", c.port)
}

// startAgent starts (or restarts: same name, same state file) an agent
// and returns how long it took to be ready.
func (c *cluster) startAgent(name string) time.Duration {
	c.t.Helper()
	begin := time.Now()
	c.agents[name] = c.e.startAgent("--name", name, "--work-queue", "default")
	return time.Since(begin)
}

// kill sends sig to p and, unless it is SIGSTOP/SIGCONT, waits (bounded)
// for it to exit.
func (c *cluster) kill(p *proc, sig syscall.Signal) {
	c.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.t.Fatalf("signal %v: %v", sig, err)
	}
	if sig == syscall.SIGSTOP || sig == syscall.SIGCONT {
		return
	}
	select {
	case <-p.exited:
	case <-time.After(e2eTimeout):
		c.t.Fatalf("orion %v did not exit on %v:\n%s", p.cmd.Args[1:], sig, p.output())
	}
}

// createRun creates a run of the fault deployment with the given number of
// 0.2 s steps, retrying while the server is down (bounded).
func (c *cluster) createRun(steps int) string {
	c.t.Helper()
	params, _ := structpb.NewStruct(map[string]any{"steps": steps})
	var last error
	for i := 0; i < 100; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := c.c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{
			DeploymentId: c.depID, Parameters: params, IdempotencyKey: fmt.Sprintf("%s-%d-%d", c.t.Name(), time.Now().UnixNano(), i),
		})
		cancel()
		if err == nil {
			return resp.GetFlowRun().GetId()
		}
		last = err
		<-time.After(faultPoll) // the server is down: retry shortly
	}
	c.t.Fatalf("cannot create a run: %v", last)
	return ""
}

// run returns a run's current record (nil while the server is down).
func (c *cluster) run(id string) *orionv1.FlowRun {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.c.FlowRuns.GetFlowRun(ctx, &orionv1.GetFlowRunRequest{Id: id})
	if err != nil {
		return nil
	}
	return resp.GetFlowRun()
}

// awaitState polls the run until cond holds for its state type, for at
// most within, and returns the run and how long it took.
func (c *cluster) awaitState(id string, within time.Duration, what string, cond func(orionv1.StateType) bool) (*orionv1.FlowRun, time.Duration) {
	c.t.Helper()
	begin := time.Now()
	tick := time.NewTicker(faultPoll)
	defer tick.Stop()
	deadline := time.After(within)
	for {
		if r := c.run(id); r != nil && cond(r.GetState().GetType()) {
			return r, time.Since(begin)
		}
		select {
		case <-tick.C:
		case <-deadline:
			c.t.Fatalf("run %s not %s within %s; it is %v\nserver:\n%s", id, what, within, c.run(id).GetState(), c.server.output())
		}
	}
}

func isType(ts ...orionv1.StateType) func(orionv1.StateType) bool {
	return func(t orionv1.StateType) bool {
		for _, x := range ts {
			if t == x {
				return true
			}
		}
		return false
	}
}

func isTerminal(t orionv1.StateType) bool {
	return isType(orionv1.StateType_STATE_TYPE_COMPLETED, orionv1.StateType_STATE_TYPE_FAILED,
		orionv1.StateType_STATE_TYPE_CANCELLED, orionv1.StateType_STATE_TYPE_CRASHED)(t)
}

// execution is one line of the execution log.
type execution struct {
	pid   int
	event string // "start" or "end"
}

// executions reads the execution log, by run id.
func (c *cluster) executions() map[string][]execution {
	c.t.Helper()
	out := map[string][]execution{}
	f, err := os.Open(c.execLog)
	if errors.Is(err, os.ErrNotExist) {
		return out
	} else if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			c.t.Errorf("malformed execution log line %q", sc.Text())
			continue
		}
		pid, _ := strconv.Atoi(fields[1])
		out[fields[0]] = append(out[fields[0]], execution{pid: pid, event: fields[2]})
	}
	return out
}

// starts counts the executions of a run.
func starts(ex []execution) int {
	n := 0
	for _, x := range ex {
		if x.event == "start" {
			n++
		}
	}
	return n
}

// awaitStarted waits until the run's flow process recorded its start and
// returns the flow's pid.
func (c *cluster) awaitStarted(id string) int {
	c.t.Helper()
	tick := time.NewTicker(faultPoll)
	defer tick.Stop()
	deadline := time.After(e2eTimeout)
	for {
		if ex := c.executions()[id]; len(ex) > 0 {
			return ex[0].pid
		}
		select {
		case <-tick.C:
		case <-deadline:
			c.t.Fatalf("run %s never started", id)
		}
	}
}

// logs returns the messages of a run's logs.
func (c *cluster) logs(id string) []string {
	c.t.Helper()
	var out []string
	var after uint64
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := c.c.Logs.ListLogs(ctx, &orionv1.ListLogsRequest{FlowRunId: id, AfterSeq: after})
		cancel()
		if err != nil {
			c.t.Fatalf("logs of %s: %v", id, err)
		}
		for _, l := range resp.GetLogs() {
			out = append(out, l.GetMessage())
		}
		if resp.GetNextAfterSeq() == 0 || len(resp.GetLogs()) == 0 {
			return out
		}
		after = resp.GetNextAfterSeq()
	}
}

// checkTicks checks that a run's logs hold "tick 0" ... "tick n-1", each
// exactly once.
func (c *cluster) checkTicks(id string, n int) {
	c.t.Helper()
	seen := tickCounts(c.logs(id))
	for i := 0; i < n; i++ {
		if k := seen["tick "+strconv.Itoa(i)]; k != 1 {
			c.t.Errorf("run %s: log line %q shipped %d times (want 1)", id, "tick "+strconv.Itoa(i), k)
		}
	}
}

// tickCounts counts each "tick N" line among a run's log messages.
func tickCounts(msgs []string) map[string]int {
	seen := map[string]int{}
	for _, m := range msgs {
		if strings.HasPrefix(m, "tick ") {
			seen[m]++
		}
	}
	return seen
}

// processGone waits (bounded) until pid no longer exists.
func processGone(pid int, within time.Duration) bool {
	tick := time.NewTicker(faultPoll)
	defer tick.Stop()
	deadline := time.After(within)
	for syscall.Kill(pid, 0) == nil {
		select {
		case <-tick.C:
		case <-deadline:
			return false
		}
	}
	return true
}

// stopAll stops the agents and the server gracefully, then checks the
// store file with bbolt's consistency check.
func (c *cluster) stopAll() {
	c.t.Helper()
	for _, a := range c.agents {
		a.stop(c.t)
	}
	c.server.stop(c.t)
	checkBolt(c.t, filepath.Join(c.e.home, "orion.db"))
}

// checkBolt opens a bbolt file read-only and runs its consistency check.
func checkBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("bbolt check of %s: %v", path, err)
	}
}

// killOrphans kills flow shims that outlived their agent (a test that
// killed an agent for good leaves them running).
func (c *cluster) killOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(c.e.home, "agent", "runs", "*", ".orion-process", "shim.pid"))
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(strings.TrimPrefix(string(b), `{"pid":`), "%d", &pid); err != nil || pid <= 1 {
			continue
		}
		if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.HasPrefix(string(cmd), c.e.bin) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}
