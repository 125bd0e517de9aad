// Package deployments stores deployments: validation, the upsert keyed by
// (flow name, deployment name), flows and work queues created on first use,
// and deletion with the auto-scheduled runs that have not started.
package deployments

import (
	"errors"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/runs"
	"github.com/orion-run/orion/server/scheduler"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/validate"
)

// DefaultWorkQueue is the queue of deployments that name none.
const DefaultWorkQueue = "default"

// EnsureFlow returns the flow with the given name, creating it on first use.
func EnsureFlow(tx store.Tx, name string, tags []string) (*orionv1.Flow, bool, error) {
	if err := validate.Name("flow_name", name); err != nil {
		return nil, false, err
	}
	f, err := tx.FlowByName(name)
	if err == nil {
		return f, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	now := timestamppb.New(tx.Now())
	f = &orionv1.Flow{Id: store.NewID(), Name: name, Tags: tags, CreateTime: now, UpdateTime: now}
	if err := tx.PutFlow(f); err != nil {
		return nil, false, err
	}
	return f, true, nil
}

// EnsureWorkQueue returns the named work queue, creating it on first use.
func EnsureWorkQueue(tx store.Tx, name string) (*orionv1.WorkQueue, error) {
	if err := validate.Name("work_queue_name", name); err != nil {
		return nil, err
	}
	q, err := tx.WorkQueueByName(name)
	if err == nil {
		return q, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	now := timestamppb.New(tx.Now())
	q = &orionv1.WorkQueue{Id: store.NewID(), Name: name, CreateTime: now, UpdateTime: now}
	return q, tx.PutWorkQueue(q)
}

// Upsert stores d, which the caller checked with validate.Deployment
// (outside the write transaction): a new deployment gets a fresh id; an
// existing (flow_name, name) keeps its id, creation time and schedule
// activity, and takes every other field from d. It returns the stored
// deployment and whether it was created.
func Upsert(tx store.Tx, in *orionv1.Deployment) (*orionv1.Deployment, bool, error) {
	if in == nil {
		return nil, false, store.Invalidf("deployment is required")
	}
	d := proto.Clone(in).(*orionv1.Deployment)
	if err := check(tx, d); err != nil {
		return nil, false, err
	}
	flow, _, err := EnsureFlow(tx, d.GetFlowName(), nil)
	if err != nil {
		return nil, false, err
	}
	if _, err := EnsureWorkQueue(tx, d.GetWorkQueueName()); err != nil {
		return nil, false, err
	}
	now := timestamppb.New(tx.Now())
	d.FlowId = flow.GetId()
	d.UpdateTime = now
	existing, err := tx.DeploymentByName(d.GetFlowName(), d.GetName())
	created := errors.Is(err, store.ErrNotFound)
	switch {
	case created:
		d.Id = store.NewID()
		d.CreateTime = now
		d.IsScheduleActive = true
	case err != nil:
		return nil, false, err
	default:
		d.Id = existing.GetId()
		d.CreateTime = existing.GetCreateTime()
		// A redeploy never re-activates a paused schedule.
		d.IsScheduleActive = existing.GetIsScheduleActive()
	}
	// Anchor interval schedules and, when the schedule changed, drop the
	// old schedule's unstarted runs in this same transaction.
	if err := scheduler.PrepareUpsert(tx, existing, d); err != nil {
		return nil, false, err
	}
	if err := tx.PutDeployment(d); err != nil {
		return nil, false, err
	}
	return d, created, nil
}

// check applies the domain rules that need the store or other packages;
// validate.Deployment has already bounded the fields.
func check(tx store.Tx, d *orionv1.Deployment) error {
	switch d.GetFlowKind() {
	case orionv1.FlowKind_FLOW_KIND_PYTHON:
		if d.GetFlowLocation() == "" && d.GetFlowSourceDigest() == "" {
			return store.Invalidf("deployment.flow_location is required for a Python flow")
		}
		if d.GetPushToServer() {
			if d.GetFlowSourceDigest() == "" {
				return store.Invalidf("deployment.flow_source_digest is required when push_to_server is true: upload the script with PutFlowSource first")
			}
			if _, err := tx.FlowSource(d.GetFlowSourceDigest()); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return store.NotFoundf("flow source %s is not stored: upload it with PutFlowSource first", d.GetFlowSourceDigest())
				}
				return err
			}
		}
	case orionv1.FlowKind_FLOW_KIND_COMMAND:
		if len(d.GetCommand()) == 0 || d.GetCommand()[0] == "" {
			return store.Invalidf("deployment.command is required for a command flow")
		}
	default:
		return store.Invalidf("deployment.flow_kind must be FLOW_KIND_PYTHON or FLOW_KIND_COMMAND")
	}
	if d.GetWorkQueueName() == "" {
		d.WorkQueueName = DefaultWorkQueue
	}
	if d.GetRetries() < 0 {
		return store.Invalidf("deployment.retries must be >= 0")
	}
	if d.GetRetryDelay().AsDuration() < 0 {
		return store.Invalidf("deployment.retry_delay must be >= 0")
	}
	if d.RetryDelay == nil {
		d.RetryDelay = durationpb.New(0)
	}
	if err := validate.ConcurrencyLimit("deployment.concurrency_limit", d.ConcurrencyLimit); err != nil {
		return err
	}
	if err := scheduler.Validate(d.GetSchedule()); err != nil {
		return err
	}
	infra, err := runs.MergeInfrastructure(d.GetInfrastructure(), nil)
	if err != nil {
		return err
	}
	d.Infrastructure = infra
	if err := runs.ValidateParameters(d.GetParameterSchema(), d.GetParameters()); err != nil {
		return store.Invalidf("deployment.%v", err)
	}
	return nil
}

// Delete removes a deployment and its auto-scheduled runs that have not
// started (SCHEDULED). Manual runs and runs that started are kept.
func Delete(tx store.Tx, id string) (*orionv1.Deployment, error) {
	d, err := tx.Deployment(id)
	if err != nil {
		return nil, err
	}
	if _, err := scheduler.DeleteAutoScheduled(tx, id); err != nil {
		return nil, err
	}
	return d, tx.DeleteDeployment(id)
}

// SetScheduleActive pauses or resumes deployment id's schedule; pausing
// deletes its unstarted auto-scheduled runs in the same transaction.
func SetScheduleActive(tx store.Tx, id string, active bool) (*orionv1.Deployment, error) {
	d, err := tx.Deployment(id)
	if err != nil {
		return nil, err
	}
	return d, scheduler.SetActive(tx, d, active)
}
