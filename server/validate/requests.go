package validate

import (
	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// Deployment checks the size and shape of a deployment's fields. The
// domain rules (flow kind, pushed source, schedule, parameter names) are
// checked by the deployments package inside the write transaction.
func Deployment(d *orionv1.Deployment) error {
	if d == nil {
		return store.Invalidf("deployment is required")
	}
	for _, check := range []error{
		Name("deployment.name", d.GetName()),
		Name("deployment.flow_name", d.GetFlowName()),
		OptionalName("deployment.work_queue_name", d.GetWorkQueueName()),
		Text("deployment.description", d.GetDescription(), MaxDescription),
		Text("deployment.flow_location", d.GetFlowLocation(), MaxLocation),
		Tags("deployment.tags", d.GetTags()),
		Document("deployment.parameters", d.GetParameters()),
		Document("deployment.parameter_schema", d.GetParameterSchema()),
		Command("deployment.command", d.GetCommand()),
		Infrastructure("deployment.infrastructure", d.GetInfrastructure()),
	} {
		if check != nil {
			return check
		}
	}
	return nil
}

// Infrastructure checks an infrastructure block's environment and config.
func Infrastructure(field string, in *orionv1.Infrastructure) error {
	if in == nil {
		return nil
	}
	if err := Text(field+".type", in.GetType(), MaxNameLength); err != nil {
		return err
	}
	if err := Env(field+".env", in.GetEnv()); err != nil {
		return err
	}
	return Document(field+".config", in.GetConfig())
}

// State checks a proposed state's free-text parts.
func State(field string, p *orionv1.StateProposal) error {
	if p == nil {
		return nil
	}
	if err := Text(field+".name", p.GetName(), MaxNameLength); err != nil {
		return err
	}
	return Text(field+".message", p.GetMessage(), MaxStateMessage)
}

// CreateFlowRun checks a CreateFlowRun request.
func CreateFlowRun(req *orionv1.CreateFlowRunRequest) error {
	if req.GetFlowName() == "" && req.GetDeploymentId() == "" {
		return store.Invalidf("flow_name is required (or deployment_id)")
	}
	if err := OptionalName("flow_name", req.GetFlowName()); err != nil {
		return err
	}
	return newRun(req.GetName(), req.GetTags(), req.GetIdempotencyKey(), req.GetState(), req.GetInfrastructure(),
		Document("parameters", req.GetParameters()))
}

// CreateDeploymentFlowRun checks a CreateDeploymentFlowRun request.
func CreateDeploymentFlowRun(req *orionv1.CreateDeploymentFlowRunRequest) error {
	if req.GetDeploymentId() == "" {
		return store.Invalidf("deployment_id is required")
	}
	if req.Retries != nil && req.GetRetries() < 0 {
		return store.Invalidf("retries must be >= 0")
	}
	if req.GetRetryDelay().AsDuration() < 0 {
		return store.Invalidf("retry_delay must be >= 0")
	}
	return newRun(req.GetName(), req.GetTags(), req.GetIdempotencyKey(), req.GetState(), req.GetInfrastructure(),
		Document("parameters", req.GetParameters()))
}

func newRun(name string, tags []string, key string, st *orionv1.StateProposal, infra *orionv1.Infrastructure, params error) error {
	for _, check := range []error{
		OptionalName("name", name),
		params,
		Tags("tags", tags),
		Text("idempotency_key", key, MaxIdempotencyKey),
		State("state", st),
		Infrastructure("infrastructure", infra),
	} {
		if check != nil {
			return check
		}
	}
	return nil
}

// WorkQueue checks a work queue's fields.
func WorkQueue(q *orionv1.WorkQueue) error {
	if q == nil {
		return store.Invalidf("work_queue is required")
	}
	if err := Name("work_queue.name", q.GetName()); err != nil {
		return err
	}
	if err := Text("work_queue.description", q.GetDescription(), MaxDescription); err != nil {
		return err
	}
	if err := ConcurrencyLimit("work_queue.concurrency_limit", q.ConcurrencyLimit); err != nil {
		return err
	}
	return Tags("work_queue.tags", q.GetTags())
}

// UpdateWorkQueue checks a work queue update: the same rules as WorkQueue
// for the fields it sets.
func UpdateWorkQueue(req *orionv1.UpdateWorkQueueRequest) error {
	if req.GetId() == "" {
		return store.Invalidf("id is required")
	}
	if err := ConcurrencyLimit("concurrency_limit", req.ConcurrencyLimit); err != nil {
		return err
	}
	if err := Text("description", req.GetDescription(), MaxDescription); err != nil {
		return err
	}
	return Tags("tags", req.GetTags())
}

// ConcurrencyLimit checks an optional concurrency limit (nil: no limit).
func ConcurrencyLimit(field string, limit *int32) error {
	if limit != nil && *limit < 0 {
		return store.Invalidf("%s must be >= 0 (0 means nothing runs; leave it unset for no limit)", field)
	}
	return nil
}

// Logs checks a batch of log lines.
func Logs(logs []*orionv1.Log) error {
	if len(logs) > MaxLogBatch {
		return store.Invalidf("logs: %d entries in one request; send at most %d", len(logs), MaxLogBatch)
	}
	for i, l := range logs {
		field := indexed("logs", i)
		switch {
		case l.GetFlowRunId() == "":
			return store.Invalidf("%s.flow_run_id is required", field)
		case len(l.GetFlowRunId()) > MaxNameLength:
			return store.Invalidf("%s.flow_run_id is too long", field)
		case len(l.GetMessage()) > MaxLogMessageSize:
			return store.Invalidf("%s.message is %d bytes; lines are limited to %d bytes", field, len(l.GetMessage()), MaxLogMessageSize)
		case len(l.GetName()) > MaxLogName:
			return store.Invalidf("%s.name is %d characters long; logger names are limited to %d", field, len(l.GetName()), MaxLogName)
		case l.GetTimestamp() == nil:
			return store.Invalidf("%s.timestamp is required", field)
		case !l.GetTimestamp().IsValid():
			return store.Invalidf("%s.timestamp is out of range", field)
		case len(l.GetSource()) > MaxLogSource:
			return store.Invalidf("%s.source is %d bytes long; sources are limited to %d", field, len(l.GetSource()), MaxLogSource)
		case l.GetSource() != "" && l.GetSourcePosition() == 0:
			return store.Invalidf("%s.source_position must be > 0 when source is set", field)
		case l.GetSource() == "" && l.GetSourcePosition() != 0:
			return store.Invalidf("%s.source_position needs a source; set source or drop the position", field)
		}
	}
	return nil
}

// ReportLogs checks the log lines of a state report and sets their run id
// where it is empty. They are bounded apart from the log rate (one batch
// per report, a run's last lines).
func ReportLogs(runID string, logs []*orionv1.Log) error {
	if len(logs) > MaxReportLogs {
		return store.Invalidf("logs: %d lines in a state report; send at most %d (more with LogService.CreateLogs)", len(logs), MaxReportLogs)
	}
	size := 0
	for i, l := range logs {
		size += len(l.GetMessage())
		switch {
		case l.GetFlowRunId() == "":
			l.FlowRunId = runID
		case l.GetFlowRunId() != runID:
			return store.Invalidf("%s.flow_run_id is %q; a state report carries lines of its own run %q only", indexed("logs", i), l.GetFlowRunId(), runID)
		}
	}
	if size > MaxReportLogBytes {
		return store.Invalidf("logs: %d bytes in a state report; send at most %d (more with LogService.CreateLogs)", size, MaxReportLogBytes)
	}
	return Logs(logs)
}

// BatchCalls checks the number of calls in a batched agent call
// (ClaimFlowRuns, ReportFlowRunStates).
func BatchCalls(field string, n int) error {
	if n > MaxBatchCalls {
		return store.Invalidf("%s: %d in one call; send at most %d per call", field, n, MaxBatchCalls)
	}
	return nil
}

// WorkQueueNames checks a list of work queue names (an agent's, a
// token's): at most MaxWorkQueues, each a valid name.
func WorkQueueNames(field string, queues []string) error {
	if len(queues) > MaxWorkQueues {
		return store.Invalidf("%s has %d entries; at most %d are allowed", field, len(queues), MaxWorkQueues)
	}
	for i, q := range queues {
		if err := Name(indexed(field, i), q); err != nil {
			return err
		}
	}
	return nil
}

// RegisterAgent checks an agent's registration.
func RegisterAgent(req *agentv1.RegisterAgentRequest) error {
	if err := OptionalName("name", req.GetName()); err != nil {
		return err
	}
	if err := Text("hostname", req.GetHostname(), 255); err != nil {
		return err
	}
	if err := Text("version", req.GetVersion(), MaxNameLength); err != nil {
		return err
	}
	if err := WorkQueueNames("work_queues", req.GetWorkQueues()); err != nil {
		return err
	}
	if req.GetLimit() < 0 {
		return store.Invalidf("limit must be >= 0 (0 means no limit)")
	}
	return Tags("infrastructure_types", req.GetInfrastructureTypes())
}
