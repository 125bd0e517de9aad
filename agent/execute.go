package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/client"
	"github.com/orion-run/orion/sdk/python"
)

// executor runs flow runs. It is shared by the agent and by Execute; the
// two differ only in their job's reporter and hooks.
type executor struct {
	client    *client.Client
	home      string
	apiURL    string
	baseEnv   []string
	runners   *runner.Registry
	clock     func() time.Time
	after     func(time.Duration) <-chan time.Time
	stopGrace time.Duration

	pyMu  sync.Mutex
	pyDir string
}

// job is one execution of a run.
type job struct {
	run   *orionv1.FlowRun
	dep   *orionv1.Deployment
	epoch int64
	rep   reporter
	stop  *stopper
	// echo, when set, also receives every output line (Execute).
	echo   io.Writer
	logger hclog.Logger
	// onStart is called once the infrastructure started (the agent records
	// the handle for recovery).
	onStart func(runner.Handle)
	// onUndelivered is called with a final state that could not be
	// delivered before ctx ended.
	onUndelivered func(*orionv1.StateProposal)
}

// outcome is how an execution ended.
type outcome struct {
	// run is the run as last returned by the server (nil if none).
	run *orionv1.FlowRun
	// result is the server's answer to the last proposal.
	result *orionv1.OrchestrationResult
	// proposed is the final state proposed (nil when none was).
	proposed *orionv1.StateProposal
	// settled is true when nothing about the run is left to report later.
	settled bool
	// err says why the flow did not run or its final state was not
	// delivered.
	err error
}

func (o outcome) finalType() orionv1.StateType { return o.proposed.GetType() }

// execute runs one flow run to the end: prepare it, propose RUNNING and
// start it only once RUNNING is accepted (Orion never starts a flow early),
// ship its output as logs, wait for it (or stop it when asked), and propose
// the final state. ctx bounds everything, reporting included.
func (e *executor) execute(ctx context.Context, j *job) outcome {
	log := j.logger
	ship := newLogShipper(ctx, e.client.Logs, j.run.GetId(), e.clock, e.after, log)
	defer ship.close()
	workdir, err := e.workdir(j.run.GetId(), j.epoch)
	if err != nil {
		return e.finish(ctx, j, ship, crashedState(err.Error()), "")
	}
	defer func() {
		if err := os.RemoveAll(workdir); err != nil {
			log.Warn("cannot remove the working directory", "error", err)
		}
	}()

	prep, err := e.prepare(ctx, j, workdir)
	if err != nil {
		log.Error("cannot prepare the flow run", "error", err)
		return e.finish(ctx, j, ship, crashedState(err.Error()), "")
	}

	res, run, err := proposeState(ctx, e.after, j.rep, runningState(), "", nil, j.stop.done())
	switch {
	case errors.Is(err, errInterrupted):
		reason, _ := j.stop.why()
		return e.finish(ctx, j, ship, stoppedState(reason), "")
	case err != nil:
		return e.notOurs(j, run, err)
	case res.GetStatus() != orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT:
		if res.GetState().GetType() == orionv1.StateType_STATE_TYPE_CANCELLING {
			return e.finish(ctx, j, ship, cancelledState(), "")
		}
		log.Info("server did not let the run start", "status", res.GetStatus().String(), "reason", res.GetReason())
		return outcome{run: run, result: res, settled: true,
			err: fmt.Errorf("the server answered %s to RUNNING: %s", statusName(res.GetStatus()), res.GetReason())}
	}

	select {
	case <-j.stop.done(): // asked to stop while RUNNING was being accepted
		reason, _ := j.stop.why()
		return e.finish(ctx, j, ship, stoppedState(reason), "")
	default:
	}
	if !prep.discardOutput {
		prep.spec.Output = shipOutput(ship, j.echo, j.epoch)
	}
	prep.spec.Sync = ship.sync
	h, err := prep.runner.Start(ctx, prep.spec)
	if err != nil {
		log.Error("flow run infrastructure could not start", "error", err)
		return e.finish(ctx, j, ship, crashedState(startFailure(prep.spec.Infra.Type)+err.Error()), "")
	}
	if j.onStart != nil {
		j.onStart(h)
	}
	log.Info("flow run started", "infrastructure", h.Type, "infrastructure_pid", h.ID)
	ship.add(logNameAgent, levelInfo, fmt.Sprintf("Started %s %s", h.Type, h.ID))

	exit, reason, waitErr := e.await(ctx, j, prep.runner, h)
	runner.Release(prep.runner, h)
	var py *python.RunResult
	if prep.resultFile != "" && reason == stopNone {
		py, err = python.ReadResult(prep.resultFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("cannot read the flow's result file", "error", err)
		}
	}
	return e.finish(ctx, j, ship, finalState(exit, reason, waitErr, py), h.ID)
}

// startFailure begins the CRASHED message of a run whose infrastructure
// could not start.
func startFailure(typ string) string {
	switch typ {
	case runner.TypeDocker:
		return "Container could not start: "
	case runner.TypeKubernetes:
		return "Kubernetes Job could not start: "
	}
	return "Process could not start: "
}

// await waits for the infrastructure to exit, or stops it when the job is
// asked to stop, and says which happened.
func (e *executor) await(ctx context.Context, j *job, rn runner.Runner, h runner.Handle) (runner.ExitResult, stopReason, error) {
	type waited struct {
		res runner.ExitResult
		err error
	}
	waitc := make(chan waited, 1)
	go func() {
		res, err := rn.Wait(ctx, h)
		waitc <- waited{res, err}
	}()
	select {
	case w := <-waitc:
		return w.res, stopNone, w.err
	case <-j.stop.done():
	}
	reason, _ := j.stop.why()
	j.logger.Info("stopping flow run", "reason", reason.String(), "infrastructure_pid", h.ID)
	if err := rn.Stop(ctx, h, e.stopGrace); err != nil {
		j.logger.Warn("cannot stop the flow run process", "error", err)
	}
	w := <-waitc
	return w.res, reason, w.err
}

// shipOutput turns a runner's output lines into logs (stderr at error
// level), also echoing them to echo when it is set. A line's position
// goes with it under the source "<epoch>/<stream>": the infrastructure of
// one claim, so a line repeated after a reattach is stored once and a
// retry's fresh output is not mistaken for it.
func shipOutput(ship *logShipper, echo io.Writer, epoch int64) runner.Output {
	sources := map[string]string{}
	return func(stream, line string, pos int64) {
		if echo != nil {
			_, _ = fmt.Fprintln(echo, line)
		}
		level := levelInfo
		if stream == "stderr" {
			level = levelError
		}
		if pos <= 0 {
			ship.add(stream, level, line)
			return
		}
		src, ok := sources[stream]
		if !ok {
			src = strconv.FormatInt(epoch, 10) + "/" + stream
			sources[stream] = src
		}
		ship.addAt(stream, level, line, src, uint64(pos))
	}
}

// finish ships the remaining logs, then proposes the final state p (nil:
// the run is not ours any more, propose nothing).
func (e *executor) finish(ctx context.Context, j *job, ship *logShipper, p *orionv1.StateProposal, infraPID string) outcome {
	if p == nil {
		ship.close()
		return outcome{settled: true}
	}
	level := levelInfo
	if p.GetType() != orionv1.StateType_STATE_TYPE_COMPLETED {
		level = levelError
	}
	if p.GetMessage() != "" {
		ship.add(logNameAgent, level, p.GetMessage())
	}
	var last []*orionv1.Log // the run's last lines, sent with its final state
	if j.rep.carriesLogs() {
		last = ship.closeKeeping(reportLogLines, reportLogBytes)
	} else {
		ship.close()
	}
	res, run, err := proposeState(ctx, e.after, j.rep, p, infraPID, &last, nil)
	ship.sendRest(ctx, last) // what no answer stored (none after one did)
	o := outcome{run: run, result: res, proposed: p, settled: settledBy(err), err: err}
	switch {
	case err == nil:
		if res.GetStatus() != orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT {
			j.logger.Info("final state not accepted as proposed", "state", p.GetType().String(), "status", res.GetStatus().String(), "reason", res.GetReason())
		}
	case !o.settled:
		j.logger.Warn("final state not delivered", "state", p.GetType().String(), "error", err)
		if j.onUndelivered != nil {
			j.onUndelivered(p)
		}
	default:
		j.logger.Info("final state refused; the run is no longer ours", "state", p.GetType().String(), "error", err)
	}
	return o
}

// notOurs handles an error proposing RUNNING: nothing was started.
func (e *executor) notOurs(j *job, run *orionv1.FlowRun, err error) outcome {
	if settledBy(err) {
		j.logger.Info("run dropped before start: it is no longer ours", "error", err)
	} else {
		j.logger.Warn("cannot report the run as running", "error", err)
	}
	return outcome{run: run, settled: settledBy(err), err: err}
}

// stoppedState is the state reported for a run stopped for reason.
func stoppedState(reason stopReason) *orionv1.StateProposal {
	switch reason {
	case stopCancel:
		return cancelledState()
	case stopShutdown:
		return crashedState(msgAgentStopped)
	case stopInterrupt:
		return crashedState(msgInterrupted)
	}
	return nil // stopLost: report nothing
}

// finalState maps how the flow ended to the state to report.
func finalState(exit runner.ExitResult, reason stopReason, waitErr error, py *python.RunResult) *orionv1.StateProposal {
	if reason != stopNone {
		return stoppedState(reason)
	}
	switch {
	case waitErr != nil:
		return crashedState("Lost track of the flow run's process: " + waitErr.Error())
	case exit.Err != nil:
		return crashedState(exit.Err.Error())
	case exit.Signal != "":
		return crashedState("Process was killed by signal " + exit.Signal)
	}
	code := int32(exit.ExitCode)
	if exit.ExitCode == 0 && (py == nil || py.State != "FAILED") {
		return &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_COMPLETED, Message: resultMessage(py), ExitCode: &code}
	}
	msg := fmt.Sprintf("Process exited with code %d", exit.ExitCode)
	if m := resultMessage(py); m != "" {
		msg = m
	}
	return &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_FAILED, Message: msg, ExitCode: &code}
}

// resultMessage is the message a Python run left in its result file.
func resultMessage(py *python.RunResult) string {
	if py == nil {
		return ""
	}
	return py.Message
}

func statusName(s orionv1.OrchestrationStatus) string {
	switch s {
	case orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT:
		return "ACCEPT"
	case orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_REJECT:
		return "REJECT"
	case orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_WAIT:
		return "WAIT"
	case orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ABORT:
		return "ABORT"
	}
	return s.String()
}

// String names a stop reason for logs.
func (r stopReason) String() string {
	switch r {
	case stopCancel:
		return "cancelled"
	case stopLost:
		return "lease lost"
	case stopShutdown:
		return "agent stopping"
	case stopInterrupt:
		return "interrupted"
	}
	return "none"
}
