package bench

import (
	"context"
	"time"
)

// rssSettle is how long the processes are left alone before their RSS is
// read.
const rssSettle = 3 * time.Second

// runRSS starts a fresh server and Agents agents, waits until every agent
// is connected and then rssSettle more, and reads VmRSS from
// /proc/<pid>/status: the server's, and the largest agent's.
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
	return nil
}
