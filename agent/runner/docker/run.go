package docker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/hashicorp/go-hclog"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/internal/outcome"
	"github.com/orion-run/orion/agent/runner/internal/stamped"
)

// run is one container being supervised.
type run struct {
	handle     runner.Handle
	data       handleData
	autoRemove bool
	collect    []string

	exit *outcome.Exit // ends once the exit and all output were collected

	ctx    context.Context // cancelled by release
	cancel context.CancelFunc
}

func newRun(d handleData, autoRemove bool, collect []string) *run {
	ctx, cancel := context.WithCancel(context.Background())
	return &run{handle: d.handle(), data: d, autoRemove: autoRemove, collect: collect,
		exit: outcome.New(), ctx: ctx, cancel: cancel}
}

func (p *run) release() { p.cancel() }

// supervise follows the output until the container stopped, then records
// its exit, collects files, removes the container (when asked) and ends
// p.exit. It ends early, recording nothing, when the run is released.
func (p *run) supervise(cli *client.Client, ld *stamped.Delivery, log hclog.Logger) {
	p.exit.End(p.collectExit(cli, ld, log))
}

func (p *run) collectExit(cli *client.Client, ld *stamped.Delivery, log hclog.Logger) runner.ExitResult {
	id := p.data.ContainerID
	logsDone := make(chan error, 1)
	go func() { logsDone <- p.follow(cli, ld) }()

	var res runner.ExitResult
	waitc, errc := cli.ContainerWait(p.ctx, id, container.WaitConditionNotRunning)
	select {
	case w := <-waitc:
		res = runner.ExitResult{ExitCode: int(w.StatusCode)}
		if w.Error != nil && w.Error.Message != "" {
			res.Err = errors.New(w.Error.Message)
		}
	case err := <-errc:
		if p.ctx.Err() != nil {
			<-logsDone
			return outcome.Released
		}
		res = runner.ExitResult{ExitCode: -1, Err: fmt.Errorf("lost track of container %s: %s", p.data.Name, engineMessage(err))}
		if cerrdefs.IsNotFound(err) {
			// Maybe an earlier agent process collected and removed it in
			// the meantime: then its record is the outcome.
			if rec, ok := stamped.ReadExit(filepath.Join(p.data.Dir, StateDirName)); ok {
				<-logsDone
				return rec
			}
			res.Err = fmt.Errorf("container %s was removed before it was collected", p.data.Name)
		}
	}
	// The log stream ends once the container stopped and the engine
	// delivered everything it logged.
	if err := <-logsDone; err != nil && p.ctx.Err() == nil {
		log.Warn("container output ended with an error", "error", err)
	}
	if p.ctx.Err() != nil {
		return outcome.Released
	}
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	if err := p.drain(ctx, cli, ld); err != nil && p.ctx.Err() == nil {
		log.Warn("cannot read the rest of the container's output", "error", err)
	}
	ld.Finish()
	if res.Err == nil {
		if info, err := cli.ContainerInspect(ctx, id); err == nil && info.State != nil && info.State.OOMKilled {
			res.Err = fmt.Errorf("the container was killed for exceeding its memory limit (OOMKilled, exit code %d)", res.ExitCode)
		}
	}
	if err := collect(ctx, cli, id, p.data.Dir, p.collect); err != nil {
		log.Warn("cannot collect the flow's files", "error", err)
	}
	if p.ctx.Err() != nil {
		// Released while collecting: the output and files may be short, so
		// record nothing and leave the container for the next agent
		// process, which collects it again.
		return outcome.Released
	}
	if err := stamped.WriteExit(filepath.Join(p.data.Dir, StateDirName), res); err != nil {
		log.Warn("cannot record the container's exit", "error", err)
	}
	if p.autoRemove {
		// Once its exit is recorded the container is done with, even when
		// the run is released meanwhile: a later agent process takes the
		// record and does not look for the container again.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(p.ctx), time.Minute)
		defer rcancel()
		if err := cli.ContainerRemove(rctx, id, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			log.Warn("cannot remove the container", "error", engineMessage(err))
		}
	}
	return res
}

// follow delivers the container's output from the recorded position until
// the stream ends.
func (p *run) follow(cli *client.Client, ld *stamped.Delivery) error {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true, Timestamps: true, Since: ld.Since()}
	rc, err := cli.ContainerLogs(p.ctx, p.data.ContainerID, opts)
	if err != nil {
		return fmt.Errorf("follow container output: %s", engineMessage(err))
	}
	defer rc.Close()
	// Closing the stream is what interrupts a blocked read on release.
	stop := context.AfterFunc(p.ctx, func() { _ = rc.Close() })
	defer stop()
	_, err = stdcopy.StdCopy(ld.Writer("stdout"), ld.Writer("stderr"), rc)
	if p.ctx.Err() != nil {
		return nil
	}
	return err
}

// drain reads the log of the stopped container once more, from the last
// delivered entry: the engine may end a follow stream when the container
// stops before it sent the last entries (a final line without a newline
// most often). Entries already delivered are skipped.
func (p *run) drain(ctx context.Context, cli *client.Client, ld *stamped.Delivery) error {
	ld.Rewind()
	rc, err := cli.ContainerLogs(ctx, p.data.ContainerID, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Timestamps: true, Since: ld.Delivered()})
	if err != nil {
		return fmt.Errorf("read container output: %s", engineMessage(err))
	}
	defer rc.Close()
	_, err = stdcopy.StdCopy(ld.Writer("stdout"), ld.Writer("stderr"), rc)
	return err
}
