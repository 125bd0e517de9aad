package main

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// defaultSoakCycles keeps the soak short in `make test`; `make soak` runs
// 200 cycles (ORION_SOAK_CYCLES).
const defaultSoakCycles = 5

// soakCounts is what the history checker found.
type soakCounts struct {
	created, completed, failed, crashed, cancelled int
	requeued, executions, duplicates               int
	logLost, logRepeated                           int
}

func (s soakCounts) String() string {
	return "runs created=" + strconv.Itoa(s.created) +
		" completed=" + strconv.Itoa(s.completed) +
		" failed=" + strconv.Itoa(s.failed) +
		" crashed=" + strconv.Itoa(s.crashed) +
		" cancelled=" + strconv.Itoa(s.cancelled) +
		" requeued=" + strconv.Itoa(s.requeued) +
		" executions=" + strconv.Itoa(s.executions) +
		" duplicates=" + strconv.Itoa(s.duplicates) +
		" log_lines_lost=" + strconv.Itoa(s.logLost) +
		" log_lines_repeated=" + strconv.Itoa(s.logRepeated)
}

// TestSoak_RandomKills runs ORION_SOAK_CYCLES cycles of: submit a few short
// runs, wait a random moment, kill the agent or the server (kill -9 or
// SIGTERM), restart it after a random pause. The delays come from a seeded
// RNG (ORION_SOAK_SEED to replay one; the seed is logged). Then every run
// must end, and the history checker verifies that no run executed twice and
// that every COMPLETED run executed exactly once to its end, and prints the
// counts. The store passes bbolt's check afterwards.
func TestSoak_RandomKills(t *testing.T) {
	cycles := defaultSoakCycles
	if v := os.Getenv("ORION_SOAK_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("ORION_SOAK_CYCLES=%q is not a count", v)
		}
		cycles = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("ORION_SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ORION_SOAK_SEED=%q is not a number", v)
		}
		seed = n
	}
	t.Logf("soak: %d cycles, seed %d (replay with ORION_SOAK_SEED=%d)", cycles, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	c := newCluster(t)
	const agentName = "soak-agent"
	c.startAgent(agentName)
	steps := map[string]int{}
	begin := time.Now()
	for i := 1; i <= cycles; i++ {
		for n := 1 + rng.IntN(3); n > 0; n-- {
			s := 1 + rng.IntN(8)
			steps[c.createRun(s)] = s
		}
		delay := time.Duration(rng.IntN(1500)) * time.Millisecond
		pause := time.Duration(rng.IntN(500)) * time.Millisecond
		sig, sigName := syscall.SIGKILL, "kill -9"
		if rng.IntN(3) == 0 {
			sig, sigName = syscall.SIGTERM, "SIGTERM"
		}
		server := rng.IntN(2) == 0
		victim := "agent"
		if server {
			victim = "server"
		}
		t.Logf("cycle %d/%d: %s the %s after %s, restart after %s", i, cycles, sigName, victim, delay, pause)
		<-time.After(delay)
		if server {
			c.kill(c.server, sig)
			<-time.After(pause)
			c.startServer()
		} else {
			c.kill(c.agents[agentName], sig)
			<-time.After(pause)
			c.startAgent(agentName)
		}
	}
	t.Logf("soak: %d cycles in %s; waiting for every run to end", cycles, time.Since(begin).Round(time.Second))

	counts := c.checkHistory(steps, 2*time.Minute)
	t.Logf("soak history: %s", counts)
	if counts.duplicates != 0 {
		t.Errorf("%d runs executed more than once", counts.duplicates)
	}
	c.stopAll()
}

// checkHistory waits (bounded) until every run ended, then checks each
// against the execution log and its state history and counts.
func (c *cluster) checkHistory(steps map[string]int, within time.Duration) soakCounts {
	c.t.Helper()
	var s soakCounts
	for id := range steps {
		c.awaitState(id, within, "terminal", isTerminal)
	}
	ex := c.executions()
	for id, n := range steps {
		s.created++
		run := c.run(id)
		k := starts(ex[id])
		s.executions += k
		if k > 1 {
			s.duplicates++
			c.t.Errorf("run %s executed %d times: %+v", id, k, ex[id])
		}
		switch run.GetState().GetType() {
		case orionv1.StateType_STATE_TYPE_COMPLETED:
			s.completed++
			if k != 1 || len(ex[id]) != 2 {
				c.t.Errorf("run %s COMPLETED but its executions are %+v", id, ex[id])
			}
			lost, repeated := c.tickAnomalies(id, n)
			s.logLost += lost
			s.logRepeated += repeated
		case orionv1.StateType_STATE_TYPE_FAILED:
			s.failed++
		case orionv1.StateType_STATE_TYPE_CRASHED:
			s.crashed++
		case orionv1.StateType_STATE_TYPE_CANCELLED:
			s.cancelled++
		}
		if c.requeued(id) {
			s.requeued++
		}
	}
	return s
}

// tickAnomalies counts a run's missing and repeated "tick" log lines.
func (c *cluster) tickAnomalies(id string, n int) (lost, repeated int) {
	seen := tickCounts(c.logs(id))
	for i := 0; i < n; i++ {
		switch k := seen["tick "+strconv.Itoa(i)]; {
		case k == 0:
			lost++
		case k > 1:
			repeated += k - 1
		}
	}
	return lost, repeated
}

// requeued reports whether the run went back to SCHEDULED after a claim.
func (c *cluster) requeued(id string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.c.FlowRuns.ListFlowRunStates(ctx, &orionv1.ListFlowRunStatesRequest{FlowRunId: id})
	if err != nil {
		c.t.Errorf("states of %s: %v", id, err)
		return false
	}
	claimed := false
	for _, st := range resp.GetStates() {
		switch st.GetType() {
		case orionv1.StateType_STATE_TYPE_PENDING:
			claimed = true
		case orionv1.StateType_STATE_TYPE_SCHEDULED:
			if claimed {
				return true
			}
		}
	}
	return false
}
