// Package runs creates flow runs: it merges a deployment's defaults with the
// request, validates parameters at creation (not when the run starts), names
// the run, honours idempotency keys, and writes the first state.
package runs

import (
	"errors"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/infra"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// Request describes a run to create.
type Request struct {
	Flow       *orionv1.Flow
	Deployment *orionv1.Deployment // optional
	Name       string
	Parameters *structpb.Struct // overrides over the deployment's defaults
	Tags       []string
	// IdempotencyKey, when set, makes creation idempotent per flow.
	IdempotencyKey string
	// State is the first state (default SCHEDULED, due at ScheduledTime or now).
	State          *orionv1.StateProposal
	ScheduledTime  *timestamppb.Timestamp
	Infrastructure *orionv1.Infrastructure
	Retries        *int32
	RetryDelay     *durationpb.Duration
	AutoScheduled  bool
}

// Create inserts the run described by req inside tx and returns it, with
// created=false when the idempotency key named an existing run.
func Create(tx store.Tx, req Request) (*orionv1.FlowRun, bool, error) {
	if req.IdempotencyKey != "" {
		existing, err := tx.FlowRunByIdempotencyKey(req.Flow.GetId(), req.IdempotencyKey)
		if err == nil {
			return existing, false, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, false, err
		}
	}
	dep := req.Deployment
	params := MergeParameters(dep.GetParameters(), req.Parameters)
	if err := ValidateParameters(dep.GetParameterSchema(), params); err != nil {
		return nil, false, err
	}
	infra, err := MergeInfrastructure(dep.GetInfrastructure(), req.Infrastructure)
	if err != nil {
		return nil, false, err
	}
	now := tx.Now()
	run := &orionv1.FlowRun{
		Id:             store.NewID(),
		Name:           req.Name,
		FlowId:         req.Flow.GetId(),
		FlowName:       req.Flow.GetName(),
		DeploymentId:   dep.GetId(),
		DeploymentName: dep.GetName(),
		WorkQueueName:  dep.GetWorkQueueName(),
		Parameters:     params,
		Tags:           unionTags(dep.GetTags(), req.Tags),
		IdempotencyKey: req.IdempotencyKey,
		AutoScheduled:  req.AutoScheduled,
		Infrastructure: infra,
		Retries:        dep.GetRetries(),
		RetryDelay:     dep.GetRetryDelay(),
		CreateTime:     timestamppb.New(now),
	}
	if run.Name == "" {
		run.Name = NewName()
	}
	if req.Retries != nil {
		if *req.Retries < 0 {
			return nil, false, store.Invalidf("retries must be >= 0")
		}
		run.Retries = *req.Retries
	}
	if req.RetryDelay != nil {
		run.RetryDelay = req.RetryDelay
	}
	if run.RetryDelay == nil {
		run.RetryDelay = durationpb.New(0)
	}
	first := req.State
	if first == nil {
		first = &orionv1.StateProposal{Type: orchestration.Scheduled}
	}
	if first.GetType() == orchestration.Scheduled && first.GetScheduledTime() == nil {
		first = proto.Clone(first).(*orionv1.StateProposal)
		first.ScheduledTime = req.ScheduledTime
	}
	if first.GetType() != orchestration.Scheduled && first.GetType() != orchestration.Pending && first.GetType() != orchestration.Running {
		return nil, false, store.Invalidf("state.type: a new run starts SCHEDULED, PENDING or RUNNING, not %s", orchestration.DefaultName(first.GetType()))
	}
	s, err := orchestration.NewState(first, now, store.NewID(), "")
	if err != nil {
		return nil, false, store.Invalidf("%v", err)
	}
	if s.Type == orchestration.Scheduled && s.Message == "" {
		s.Message = "Flow run scheduled"
	}
	if err := orchestration.Write(tx, run, s, nil); err != nil {
		return nil, false, err
	}
	return run, true, nil
}

// MergeInfrastructure overlays a per-run override on a deployment's
// infrastructure (infra.Merge: the type is replaced when set, env merged by
// key, config merged deeply) and validates the result, so a bad field is
// refused when the deployment or the run is created rather than when an
// agent starts it. The type is stored normalized ("DockerFlowRunner" →
// "docker").
func MergeInfrastructure(base, override *orionv1.Infrastructure) (*orionv1.Infrastructure, error) {
	out := infra.Merge(base, override)
	cfg, err := infra.Parse(out)
	if err != nil {
		return nil, store.Invalidf("%v", err)
	}
	out.Type = cfg.Type
	return out, nil
}

func unionTags(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]string{a, b} {
		for _, t := range list {
			if t != "" && !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}
