package runs

import (
	"cmp"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// Limits of the read models below.
const (
	DefaultRecentRuns = 10
	MaxRecentRuns     = 50
	MaxSummaryIDs     = 1000
	MaxHistoryBuckets = 1000
)

// Summarize returns a run's summary: its identity, state and times.
func Summarize(r *orionv1.FlowRun) *orionv1.FlowRunSummary {
	return &orionv1.FlowRunSummary{
		Id: r.GetId(), Name: r.GetName(),
		StateType: r.GetState().GetType(), StateName: r.GetState().GetName(), StateTime: r.GetState().GetTimestamp(),
		ExpectedStartTime: r.GetExpectedStartTime(), NextScheduledStartTime: r.GetNextScheduledStartTime(),
		StartTime: r.GetStartTime(), EndTime: r.GetEndTime(),
	}
}

// DeploymentSummaries returns, per deployment id, its recent runs (newest
// first by creation, without the SCHEDULED runs due after tx.Now()) and
// its next scheduled run. The upcoming runs are counted first from the
// scheduled index, so the newest-first walk reads exactly recent+upcoming
// runs at most.
func DeploymentSummaries(tx store.Tx, ids []string, recent int) ([]*orionv1.DeploymentRunSummary, error) {
	switch {
	case len(ids) == 0:
		return nil, store.Invalidf("deployment_ids: give at least one deployment id")
	case len(ids) > MaxSummaryIDs:
		return nil, store.Invalidf("deployment_ids: %d ids; give at most %d", len(ids), MaxSummaryIDs)
	case recent < 0 || recent > MaxRecentRuns:
		return nil, store.Invalidf("recent_runs must be between 0 and %d", MaxRecentRuns)
	case recent == 0:
		recent = DefaultRecentRuns
	}
	now := tx.Now()
	out := make([]*orionv1.DeploymentRunSummary, 0, len(ids))
	for i, id := range ids {
		if id == "" {
			return nil, store.Invalidf("deployment_ids[%d] is empty", i)
		}
		next, upcoming, err := tx.ScheduledRuns(id, now, 1)
		if err != nil {
			return nil, err
		}
		s := &orionv1.DeploymentRunSummary{DeploymentId: id, UpcomingRuns: int32(upcoming)}
		if len(next) > 0 {
			s.NextRun = Summarize(next[0])
		}
		list, _, err := tx.ListFlowRuns(store.FlowRunFilter{DeploymentID: id, Limit: recent + upcoming})
		if err != nil {
			return nil, err
		}
		for _, r := range list {
			if len(s.RecentRuns) == recent {
				break
			}
			if isUpcoming(r, now) {
				continue
			}
			s.RecentRuns = append(s.RecentRuns, Summarize(r))
		}
		out = append(out, s)
	}
	return out, nil
}

// isUpcoming reports a SCHEDULED run due after now.
func isUpcoming(r *orionv1.FlowRun, now time.Time) bool {
	t := r.GetNextScheduledStartTime()
	return r.GetState().GetType() == orchestration.Scheduled && t != nil && t.AsTime().After(now)
}

// HistoryRequest selects the runs GetFlowRunHistory counts.
type HistoryRequest struct {
	Start, End   time.Time
	Interval     time.Duration
	DeploymentID string
	StateTypes   []orionv1.StateType
}

// History counts the runs created in each interval of [Start, End) by
// their current state type.
func History(tx store.Tx, req HistoryRequest) ([]*orionv1.FlowRunHistoryInterval, error) {
	switch {
	case req.Start.IsZero() || req.End.IsZero():
		return nil, store.Invalidf("start_time and end_time are both required")
	case !req.End.After(req.Start):
		return nil, store.Invalidf("end_time must be after start_time")
	case req.Interval <= 0:
		return nil, store.Invalidf("interval must be positive, e.g. \"300s\"")
	}
	span := req.End.Sub(req.Start)
	n := int(span / req.Interval)
	if span%req.Interval != 0 {
		n++
	}
	if n > MaxHistoryBuckets {
		return nil, store.Invalidf("the window holds %d intervals; at most %d (use a longer interval)", n, MaxHistoryBuckets)
	}
	counts := make([]map[orionv1.StateType]int32, n)
	err := tx.RunsCreatedBetween(req.DeploymentID, req.Start, req.End, func(r *orionv1.FlowRun) bool {
		t := r.GetState().GetType()
		if len(req.StateTypes) > 0 && !slices.Contains(req.StateTypes, t) {
			return true
		}
		i := int(r.GetCreateTime().AsTime().Sub(req.Start) / req.Interval)
		if i < 0 || i >= n {
			return true // guards against a store that strays out of the window
		}
		if counts[i] == nil {
			counts[i] = map[orionv1.StateType]int32{}
		}
		counts[i][t]++
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]*orionv1.FlowRunHistoryInterval, n)
	for i := range out {
		start := req.Start.Add(time.Duration(i) * req.Interval)
		end := start.Add(req.Interval)
		if end.After(req.End) {
			end = req.End
		}
		iv := &orionv1.FlowRunHistoryInterval{StartTime: timestamppb.New(start), EndTime: timestamppb.New(end)}
		for t, c := range counts[i] {
			iv.Counts = append(iv.Counts, &orionv1.StateTypeCount{StateType: t, Count: c})
		}
		slices.SortFunc(iv.Counts, func(a, b *orionv1.StateTypeCount) int { return cmp.Compare(a.StateType, b.StateType) })
		out[i] = iv
	}
	return out, nil
}

// QueueStats counts, per work queue record, the SCHEDULED runs of
// deployments that are due (and of those the Late ones) and the held runs.
func QueueStats(tx store.Tx) ([]*orionv1.WorkQueueStats, error) {
	queues, err := tx.ListWorkQueues()
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*orionv1.WorkQueueStats, len(queues))
	out := make([]*orionv1.WorkQueueStats, 0, len(queues))
	for _, q := range queues {
		s := &orionv1.WorkQueueStats{WorkQueueId: q.GetId(), WorkQueueName: q.GetName()}
		byName[q.GetName()] = s
		out = append(out, s)
	}
	err = tx.RunsByState(orchestration.Scheduled, tx.Now(), func(r *orionv1.FlowRun) bool {
		if s := byName[r.GetWorkQueueName()]; s != nil && r.GetDeploymentId() != "" {
			s.PendingRuns++
			if r.GetState().GetName() == orchestration.NameLate {
				s.LateRuns++
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	for name, s := range byName {
		n, err := tx.HeldCount(store.HeldByQueue, name)
		if err != nil {
			return nil, err
		}
		s.RunsInFlight = int32(n)
	}
	slices.SortFunc(out, func(a, b *orionv1.WorkQueueStats) int { return cmp.Compare(a.GetWorkQueueName(), b.GetWorkQueueName()) })
	return out, nil
}
