package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// The fault tests run a real server and real agents (the orion binary) and
// break them: kill -9, restarts, SIGSTOP standing in for a network cut.
// After each, every run must be terminal (or back in the queue), no run may
// have executed twice (the flows append every execution to a log), and the
// store must pass bbolt's consistency check. `make fault` runs them alone.

// TestFault_AgentKilledAndRestarted: kill -9 of the agent mid-run, restarted
// at once. The flow survives its agent (it runs under a shim), the new agent
// process reattaches, and the run completes once with complete logs.
func TestFault_AgentKilledAndRestarted(t *testing.T) {
	c := newCluster(t)
	c.startAgent("fault-agent")
	const steps = 20 // 4 s
	id := c.createRun(steps)
	pid := c.awaitStarted(id)

	c.kill(c.agents["fault-agent"], syscall.SIGKILL)
	killed := time.Now()
	ready := c.startAgent("fault-agent")
	t.Logf("agent restarted and ready %s after kill -9 (start took %s)", time.Since(killed).Round(time.Millisecond), ready.Round(time.Millisecond))

	run, took := c.awaitState(id, 30*time.Second, "terminal", isTerminal)
	if got := run.GetState().GetType(); got != orionv1.StateType_STATE_TYPE_COMPLETED {
		t.Fatalf("run ended %v (%s), want COMPLETED\nagent:\n%s", got, run.GetState().GetMessage(), c.agents["fault-agent"].output())
	}
	t.Logf("run completed %s after the restart", took.Round(time.Millisecond))
	ex := c.executions()[id]
	if len(ex) != 2 || ex[0].pid != pid || ex[1].event != "end" {
		t.Fatalf("executions of %s: %+v, want one start and one end of pid %d", id, ex, pid)
	}
	c.checkTicks(id, steps)
	if logs := strings.Join(c.logs(id), "\n"); !strings.Contains(logs, "reattached") {
		t.Errorf("logs do not mention the reattachment:\n%s", logs)
	}
	c.stopAll()
}

// TestFault_AgentKilledForGood: kill -9 of the agent mid-run, never
// restarted. The server crashes the run within the lease bound (the fast
// path on a broken stream aims at 2 s; this only asserts lease + margin).
func TestFault_AgentKilledForGood(t *testing.T) {
	c := newCluster(t)
	c.startAgent("fault-agent")
	id := c.createRun(50)
	c.awaitStarted(id)

	c.kill(c.agents["fault-agent"], syscall.SIGKILL)
	bound := faultLease + 2*faultHeartbeat + 2*time.Second
	run, took := c.awaitState(id, bound, "CRASHED or back in the queue",
		isType(orionv1.StateType_STATE_TYPE_CRASHED, orionv1.StateType_STATE_TYPE_SCHEDULED))
	t.Logf("run %v %s after the agent was killed (bound %s): %s", run.GetState().GetType(), took.Round(time.Millisecond), bound, run.GetState().GetMessage())
	if n := starts(c.executions()[id]); n != 1 {
		t.Fatalf("run started %d times", n)
	}
	c.stopAll()
}

// TestFault_ServerKilled: kill -9 of the server right after runs were
// created (mid-dispatch) and again while they run; restarted on the same
// port and store. The agent reconnects, every run completes, none twice.
func TestFault_ServerKilled(t *testing.T) {
	c := newCluster(t)
	c.startAgent("fault-agent")

	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, c.createRun(3))
	}
	c.kill(c.server, syscall.SIGKILL) // mid-dispatch
	c.startServer()

	long := c.createRun(15) // 3 s
	ids = append(ids, long)
	c.awaitStarted(long)
	c.kill(c.server, syscall.SIGKILL) // mid-run
	down := time.Now()
	c.startServer()
	t.Logf("server restarted in %s", time.Since(down).Round(time.Millisecond))

	for _, id := range ids {
		run, _ := c.awaitState(id, 60*time.Second, "terminal", isTerminal)
		ex := c.executions()
		if got := run.GetState().GetType(); got != orionv1.StateType_STATE_TYPE_COMPLETED {
			t.Errorf("run %s ended %v: %s", id, got, run.GetState().GetMessage())
		}
		if n := starts(ex[id]); n != 1 {
			t.Errorf("run %s started %d times", id, n)
		}
	}
	c.checkTicks(long, 15)
	c.stopAll()
}

// TestFault_NetworkCut: the agent stops heartbeating (SIGSTOP) for longer
// than the lease while its flow keeps running. The server crashes the run;
// once resumed, the agent learns from its heartbeat that the lease is lost
// and stops the flow, and reports nothing over the server's decision.
func TestFault_NetworkCut(t *testing.T) {
	c := newCluster(t)
	c.startAgent("fault-agent")
	id := c.createRun(50) // 10 s
	pid := c.awaitStarted(id)

	agentProc := c.agents["fault-agent"]
	c.kill(agentProc, syscall.SIGSTOP)
	cut := time.Now()
	run, took := c.awaitState(id, faultLease+2*faultHeartbeat+2*time.Second, "CRASHED",
		isType(orionv1.StateType_STATE_TYPE_CRASHED))
	t.Logf("run crashed %s after the agent stopped heartbeating: %s", took.Round(time.Millisecond), run.GetState().GetMessage())
	c.kill(agentProc, syscall.SIGCONT)
	if !processGone(pid, 10*time.Second) {
		t.Fatalf("flow process %d still runs after the agent learnt its lease was lost\nagent:\n%s", pid, agentProc.output())
	}
	t.Logf("flow process stopped %s after the cut", time.Since(cut).Round(time.Millisecond))
	ex := c.executions()[id]
	if starts(ex) != 1 || len(ex) != 1 {
		t.Fatalf("executions of %s: %+v, want one start and no end", id, ex)
	}
	if got := c.run(id).GetState().GetType(); got != orionv1.StateType_STATE_TYPE_CRASHED {
		t.Fatalf("run is %v after the agent resumed, want CRASHED", got)
	}
	c.stopAll()
}
