package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// maxStreamRetries is how many consecutive broken streams a watch or a log
// follow survives before giving up.
const maxStreamRetries = 5

// stateHistory prints a run's state history, each state once, in order.
// It reads the whole history on every call, so states are never skipped even
// when watch events coalesce (RUNNING and COMPLETED in one message).
type stateHistory struct {
	out     io.Writer
	loc     *time.Location
	printed map[string]bool
}

// printNew prints the states of run id not printed yet.
func (h *stateHistory) printNew(ctx context.Context, c *client.Client, id string) error {
	resp, err := c.FlowRuns.ListFlowRunStates(ctx, &orionv1.ListFlowRunStatesRequest{FlowRunId: id})
	if err != nil {
		return err
	}
	for i, s := range resp.GetStates() {
		key := s.GetId()
		if key == "" {
			key = "#" + strconv.Itoa(i)
		}
		if h.printed[key] {
			continue
		}
		h.printed[key] = true
		if _, err := fmt.Fprintln(h.out, stateLine(s, h.loc)); err != nil {
			return err
		}
	}
	return nil
}

// watchRun follows run until it reaches a terminal state, printing each
// state it goes through, and returns the run as it ended. A broken stream is
// reopened up to maxStreamRetries times in a row.
func (m *meta) watchRun(ctx context.Context, c *client.Client, run *orionv1.FlowRun, out io.Writer) (*orionv1.FlowRun, error) {
	h := &stateHistory{out: out, loc: m.loc, printed: map[string]bool{}}
	id := run.GetId()
	failures := 0
	for {
		final, err := watchOnce(ctx, c, h, id, func() { failures = 0 })
		if final != nil {
			return final, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if client.IsNotFound(err) {
			return nil, flowRunNotFound(id)
		}
		failures++
		if failures > maxStreamRetries {
			return nil, fmt.Errorf("lost track of flow run '%s' (%s) after %d attempts: %s",
				run.GetName(), id, failures, streamErrText(err))
		}
		if err := sleepCtx(ctx, m.retryDelay(failures)); err != nil {
			return nil, err
		}
	}
}

// watchOnce opens one watch and consumes it. It returns the run once it is
// terminal, or the error that ended the stream (io.EOF when the server
// closed it before a terminal state). progress is called after every
// message handled.
func watchOnce(ctx context.Context, c *client.Client, h *stateHistory, id string, progress func()) (*orionv1.FlowRun, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.FlowRuns.WatchFlowRun(ctx, &orionv1.WatchFlowRunRequest{Id: id})
	if err != nil {
		return nil, err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		if err := h.printNew(ctx, c, id); err != nil {
			return nil, err
		}
		progress()
		if run := resp.GetFlowRun(); isTerminal(run.GetState()) {
			return run, nil
		}
	}
}

// streamErrText describes why a stream ended.
func streamErrText(err error) string {
	if errors.Is(err, io.EOF) {
		return "the server closed the stream"
	}
	return errorText(err)
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
