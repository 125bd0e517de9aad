package bench

import (
	"context"
	"time"

	"github.com/orion-run/orion/cmd/internal/agentcmd"
)

// rssSettle is how long the processes are left alone before their RSS is
// read.
const rssSettle = 3 * time.Second

// runRSS starts a fresh server and Agents agents, waits until every agent
// is connected and then rssSettle more, and reads VmRSS from
// /proc/<pid>/status: the server's, and the largest agent's. When the
// agents ran orion-agent, one more agent is started inside orion
// (ORION_AGENT_IN_PROCESS=1) and measured the same way, for comparison.
func runRSS(ctx context.Context, e *env, r *Result) error {
	cl, err := e.newCluster(ctx, e.opts.Agents)
	if err != nil {
		return err
	}
	defer cl.close()
	if !waitUntil(ctx, time.Now().Add(rssSettle)) {
		return ctx.Err()
	}
	srv, err := cl.server.rssMB()
	if err != nil {
		return err
	}
	var agent float64
	for _, p := range cl.agents {
		mb, err := p.rssMB()
		if err != nil {
			return err
		}
		agent = max(agent, mb)
	}
	r.ServerRSSMBIdle, r.AgentRSSMBIdle = ptr(round2(srv)), ptr(round2(agent))
	if len(cl.agents) == 0 {
		return nil
	}
	if r.AgentBinary, err = cl.agents[0].exe(); err != nil { // every agent runs the same binary
		return err
	}
	if r.AgentBinary != agentcmd.BinaryName {
		return nil
	}
	if err := cl.startAgents(ctx, 1, agentcmd.EnvInProcess+"=1"); err != nil {
		return err
	}
	if !waitUntil(ctx, time.Now().Add(rssSettle)) {
		return ctx.Err()
	}
	mb, err := cl.agents[len(cl.agents)-1].rssMB()
	if err != nil {
		return err
	}
	r.AgentRSSMBIdleInProcess = ptr(round2(mb))
	return nil
}
