package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newFlowRunLogsCommand is `orion flow-run logs ID`.
func newFlowRunLogsCommand(m *meta) *cobra.Command {
	var (
		follow bool
		output string
	)
	cmd := &cobra.Command{
		Use:   "logs ID",
		Short: "Print a flow run's logs",
		Long: `Print a flow run's logs in order, one line each:
"<date time> | <LEVEL> | <logger> - <message>".

With --follow, keep printing new lines until the run has finished. With
-o json the logs are one JSON array, or with --follow one JSON object per line.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			id := strings.TrimSpace(args[0])
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			if follow {
				print := func(l *orionv1.Log) error {
					if output == outputJSON {
						b, err := protoJSON(l, true)
						if err != nil {
							return err
						}
						_, err = fmt.Fprintf(out, "%s\n", b)
						return err
					}
					_, err := fmt.Fprintln(out, logLine(l, m.loc))
					return err
				}
				return m.followLogs(cmd.Context(), c, id, print)
			}
			logs, err := listLogs(cmd.Context(), c, id)
			if err != nil {
				return err
			}
			if output == outputJSON {
				return writeProtoList(out, logs)
			}
			for _, l := range logs {
				if _, err := fmt.Fprintln(out, logLine(l, m.loc)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until the run has finished")
	addOutputFlag(cmd, &output)
	return cmd
}

// listLogs reads all of a run's logs, page by page.
func listLogs(ctx context.Context, c *client.Client, id string) ([]*orionv1.Log, error) {
	var all []*orionv1.Log
	var after uint64
	for {
		resp, err := c.Logs.ListLogs(ctx, &orionv1.ListLogsRequest{FlowRunId: id, AfterSeq: after})
		if err != nil {
			return nil, runErr(err, id)
		}
		all = append(all, resp.GetLogs()...)
		next := resp.GetNextAfterSeq()
		if next == 0 || next <= after || len(resp.GetLogs()) == 0 {
			return all, nil
		}
		after = next
	}
}

// followLogs streams a run's logs until the server ends the stream (the run
// is terminal and every line was sent). A broken stream is reopened after
// the last line printed, up to maxStreamRetries times in a row.
func (m *meta) followLogs(ctx context.Context, c *client.Client, id string, print func(*orionv1.Log) error) error {
	var after uint64
	failures := 0
	for {
		err := func() error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			stream, err := c.Logs.FollowLogs(ctx, &orionv1.FollowLogsRequest{FlowRunId: id, AfterSeq: after})
			if err != nil {
				return err
			}
			for {
				resp, err := stream.Recv()
				if err != nil {
					return err
				}
				l := resp.GetLog()
				if l.GetSeq() != 0 && l.GetSeq() <= after {
					continue // already printed before a reconnect
				}
				if err := print(l); err != nil {
					return &writeError{err}
				}
				after = max(after, l.GetSeq())
				failures = 0
			}
		}()
		var we *writeError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &we):
			return we.err
		case client.IsNotFound(err):
			return flowRunNotFound(id)
		}
		failures++
		if failures > maxStreamRetries {
			return fmt.Errorf("lost the log stream of flow run '%s' after %d attempts: %s", id, failures, errorText(err))
		}
		if err := sleepCtx(ctx, m.retryDelay(failures)); err != nil {
			return err
		}
	}
}

// writeError is a failure to print, which reconnecting would not fix.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
