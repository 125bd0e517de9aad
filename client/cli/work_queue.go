package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newWorkQueueCommand is the `orion work-queue` group.
func newWorkQueueCommand(m *meta) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "work-queue",
		Aliases: []string{"work-queues"},
		Short:   "Create, list, inspect, pause and limit work queues",
		Long: `Work queues group the runs that a set of agents takes work from. A queue
can filter by tags (only runs carrying all of them are taken), be paused
(nothing is dispatched) and have a concurrency limit (0: nothing runs).
Commands that take a queue accept its name or its id.`,
		Args: noArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(
		newWorkQueueCreateCommand(m),
		newWorkQueueListCommand(m),
		newWorkQueueInspectCommand(m),
		newWorkQueuePreviewCommand(m),
		newWorkQueuePauseCommand(m, true),
		newWorkQueuePauseCommand(m, false),
		newWorkQueueSetLimitCommand(m),
		newWorkQueueClearLimitCommand(m),
		newWorkQueueDeleteCommand(m),
	)
	return cmd
}

// dialWorkQueue connects and resolves a NAME_OR_ID argument. The caller
// closes the client.
func (m *meta) dialWorkQueue(ctx context.Context, arg string) (*client.Client, *orionv1.WorkQueue, error) {
	c, err := m.dial()
	if err != nil {
		return nil, nil, err
	}
	q, err := resolveWorkQueue(ctx, c, strings.TrimSpace(arg))
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, q, nil
}

// resolveWorkQueue finds a queue by id (when arg is a UUID) or by name.
func resolveWorkQueue(ctx context.Context, c *client.Client, arg string) (*orionv1.WorkQueue, error) {
	if _, perr := uuid.Parse(arg); perr == nil {
		resp, err := c.WorkQueues.GetWorkQueue(ctx, &orionv1.GetWorkQueueRequest{Id: arg})
		if err == nil {
			return resp.GetWorkQueue(), nil
		}
		if !client.IsNotFound(err) {
			return nil, apiErr(err, "")
		}
	}
	resp, err := c.WorkQueues.GetWorkQueueByName(ctx, &orionv1.GetWorkQueueByNameRequest{Name: arg})
	if client.IsNotFound(err) {
		return nil, exitCode1(fmt.Errorf("No work queue found with id %s", arg)) //nolint:staticcheck // Prefect's message
	}
	if err != nil {
		return nil, apiErr(err, "")
	}
	return resp.GetWorkQueue(), nil
}

// newWorkQueueCreateCommand is `orion work-queue create NAME [-t TAG...]`.
func newWorkQueueCreateCommand(m *meta) *cobra.Command {
	var tags []string
	var description, output string
	var limit int32
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a work queue",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			q := &orionv1.WorkQueue{Name: strings.TrimSpace(args[0]), Tags: tags, Description: description}
			if cmd.Flags().Changed("limit") {
				q.ConcurrencyLimit = &limit
			}
			resp, err := c.WorkQueues.CreateWorkQueue(cmd.Context(), &orionv1.CreateWorkQueueRequest{WorkQueue: q})
			if err != nil {
				return apiErr(err, "")
			}
			if output == outputJSON {
				return writeProto(cmd.OutOrStdout(), resp.GetWorkQueue(), true)
			}
			return writeWorkQueue(cmd.OutOrStdout(), resp.GetWorkQueue())
		},
	}
	cmd.Flags().StringSliceVarP(&tags, "tag", "t", nil, "only take runs carrying this tag (repeatable)")
	cmd.Flags().StringVar(&description, "description", "", "a description of the queue")
	cmd.Flags().Int32Var(&limit, "limit", 0, "concurrency limit (0: nothing runs; omit for no limit)")
	addOutputFlag(cmd, &output)
	return cmd
}

// newWorkQueueListCommand is `orion work-queue ls`.
func newWorkQueueListCommand(m *meta) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List work queues",
		Long:    "List work queues by name. (**) denotes a paused queue.",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.WorkQueues.ListWorkQueues(cmd.Context(), &orionv1.ListWorkQueuesRequest{})
			if err != nil {
				return apiErr(err, "")
			}
			if output == outputJSON {
				return writeProtoList(cmd.OutOrStdout(), resp.GetWorkQueues())
			}
			t := newTable(cmd.OutOrStdout(), "NAME", "ID", "CONCURRENCY LIMIT", "TAGS")
			for _, q := range resp.GetWorkQueues() {
				name := q.GetName()
				if q.GetIsPaused() {
					name += " (**)"
				}
				t.row(name, q.GetId(), limitText(q.ConcurrencyLimit), strings.Join(q.GetTags(), ","))
			}
			if err := t.flush(); err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "(**) denotes a paused queue")
			return err
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

// newWorkQueueInspectCommand is `orion work-queue inspect NAME_OR_ID`.
func newWorkQueueInspectCommand(m *meta) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "inspect NAME_OR_ID",
		Short: "Show a work queue",
		Args:  exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, q, err := m.dialWorkQueue(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			if output == outputJSON {
				return writeProto(cmd.OutOrStdout(), q, true)
			}
			return writeWorkQueue(cmd.OutOrStdout(), q)
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

// writeWorkQueue prints one queue as "key: value" lines.
func writeWorkQueue(w io.Writer, q *orionv1.WorkQueue) error {
	t := newTable(w)
	t.row("Name:", q.GetName())
	t.row("ID:", q.GetId())
	t.row("Description:", q.GetDescription())
	t.row("Paused:", strconv.FormatBool(q.GetIsPaused()))
	t.row("Concurrency limit:", limitText(q.ConcurrencyLimit))
	t.row("Tags:", strings.Join(q.GetTags(), ", "))
	return t.flush()
}

// limitText shows an optional concurrency limit ("None" when unset).
func limitText(limit *int32) string {
	if limit == nil {
		return "None"
	}
	return strconv.Itoa(int(*limit))
}
