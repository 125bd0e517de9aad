package agent

import (
	"context"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"

	"github.com/orion-run/orion/client"
)

// heartbeatLoop renews the registration and the leases of held runs every
// heartbeat interval until ctx is done, and acts on the answer: runs the
// server says we lost are stopped, requested cancels are carried out. It
// keeps going during shutdown, while runs are still being finished. The
// first heartbeat goes out at once (registering if needed), so leases of
// runs left by a previous agent process are renewed without delay and the
// server's heartbeat interval is known before the first sleep.
func (a *Agent) heartbeatLoop(ctx context.Context) {
	failing := false
	for first := true; ; first = false {
		if !first && !a.sleep(ctx, a.sess.heartbeatInterval()) {
			return
		}
		err := a.heartbeatOnce(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !failing:
			a.logger.Warn("heartbeat failed", "error", err)
			failing = true
		case err != nil:
			a.logger.Debug("heartbeat failed", "error", err)
		case failing:
			a.logger.Info("heartbeat succeeded again")
			failing = false
		}
	}
}

// heartbeatOnce sends one heartbeat, registering first when needed.
func (a *Agent) heartbeatOnce(ctx context.Context) error {
	id, err := a.sess.ensure(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := a.client.Agent.Heartbeat(rctx, &agentv1.HeartbeatRequest{AgentId: id, Runs: a.heldRuns()})
	if err != nil {
		if client.IsNotFound(err) {
			a.sess.invalidate(id)
		}
		return err
	}
	for _, lost := range resp.GetLostFlowRunIds() {
		a.loseRun(lost)
	}
	for _, c := range resp.GetCancels() {
		a.cancelRun(c)
	}
	return nil
}
