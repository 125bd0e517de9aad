package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// List phase sizes: rounds of every headline filter, pages walked per
// filter and round, and samples of the filter that matches nothing.
const (
	listRounds    = 5
	listPages     = 10
	listRareReads = 3
)

// listFilter is one ListFlowRuns query of the list phase.
type listFilter struct {
	name string
	req  func(round int, deps []string) *orionv1.ListFlowRunsRequest
}

// headlineFilters are the queries whose pages make up list_p99_ms_1m: what
// the dashboard and `orion flow-run ls` ask for.
var headlineFilters = []listFilter{
	{"newest", func(int, []string) *orionv1.ListFlowRunsRequest { return &orionv1.ListFlowRunsRequest{} }},
	{"deployment", func(i int, deps []string) *orionv1.ListFlowRunsRequest {
		return &orionv1.ListFlowRunsRequest{DeploymentId: deps[i%len(deps)]}
	}},
	{"flow_name", func(i int, _ []string) *orionv1.ListFlowRunsRequest {
		return &orionv1.ListFlowRunsRequest{FlowName: fmt.Sprintf("flow-%d", i%listFlows)}
	}},
	{"state_failed", func(int, []string) *orionv1.ListFlowRunsRequest {
		return &orionv1.ListFlowRunsRequest{StateTypes: []orionv1.StateType{orionv1.StateType_STATE_TYPE_FAILED}}
	}},
	{"deployment_state_failed", func(i int, deps []string) *orionv1.ListFlowRunsRequest {
		return &orionv1.ListFlowRunsRequest{DeploymentId: deps[(i*7)%len(deps)], StateTypes: []orionv1.StateType{orionv1.StateType_STATE_TYPE_FAILED}}
	}},
	{"tag", func(int, []string) *orionv1.ListFlowRunsRequest {
		return &orionv1.ListFlowRunsRequest{Tags: []string{"nightly"}}
	}},
}

// rareFilter matches no stored run (they all ended), so a page of it reads
// every run: reported on its own, not in list_p99_ms_1m.
var rareFilter = listFilter{"state_running_none_stored", func(int, []string) *orionv1.ListFlowRunsRequest {
	return &orionv1.ListFlowRunsRequest{StateTypes: []orionv1.StateType{orionv1.StateType_STATE_TYPE_RUNNING}}
}}

// runList stores ListRuns finished runs (fillStore), starts a server on
// that store (server_start_ms_1m), and times ListFlowRuns pages of
// listPageSize through the gRPC API: for every headline filter, listPages
// consecutive pages (following next_page_token) in each of listRounds
// rounds. list_p99_ms_1m is the p99 over all those pages.
func runList(ctx context.Context, e *env, r *Result) error {
	home, err := e.mkdir("server-home")
	if err != nil {
		return err
	}
	begin := time.Now()
	deps, err := fillStore(ctx, filepath.Join(home, "orion.db"), e.opts.ListRuns)
	if err != nil {
		return err
	}
	e.log.Info("list store ready", "runs", e.opts.ListRuns, "took", time.Since(begin).Round(time.Millisecond).String())
	srv, url, took, err := e.startServer(ctx, "server", home)
	if err != nil {
		return err
	}
	defer e.stop(srv)
	r.ServerStartMs1M = ptr(ms(took))
	c, err := client.Dial(url, client.WithToken(""))
	if err != nil {
		return err
	}
	defer c.Close()

	// One unrecorded call opens the connection.
	if _, err := c.FlowRuns.ListFlowRuns(ctx, &orionv1.ListFlowRunsRequest{PageSize: listPageSize}); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	byFilter := map[string][]time.Duration{}
	var all []time.Duration
	for round := range listRounds {
		for _, f := range headlineFilters {
			samples, err := walkPages(ctx, c, f.req(round, deps), listPages)
			if err != nil {
				return fmt.Errorf("list %s: %w", f.name, err)
			}
			byFilter[f.name] = append(byFilter[f.name], samples...)
			all = append(all, samples...)
		}
	}
	for round := range listRareReads {
		samples, err := walkPages(ctx, c, rareFilter.req(round, deps), 1)
		if err != nil {
			return fmt.Errorf("list %s: %w", rareFilter.name, err)
		}
		byFilter[rareFilter.name] = append(byFilter[rareFilter.name], samples...)
	}
	r.ListP99Ms1M = ptr(p99(all))
	r.ListP99Ms1MByFilter = map[string]float64{}
	for name, samples := range byFilter {
		r.ListP99Ms1MByFilter[name] = p99(samples)
	}
	return nil
}

// walkPages reads up to pages consecutive pages of req and returns the
// latency of each call.
func walkPages(ctx context.Context, c *client.Client, req *orionv1.ListFlowRunsRequest, pages int) ([]time.Duration, error) {
	req.PageSize = listPageSize
	var out []time.Duration
	for range pages {
		begin := time.Now()
		resp, err := c.FlowRuns.ListFlowRuns(ctx, req)
		if err != nil {
			return nil, err
		}
		out = append(out, time.Since(begin))
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	return out, nil
}
