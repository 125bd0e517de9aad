from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from orion.v1 import deployment_pb2 as _deployment_pb2
from orion.v1 import flow_run_pb2 as _flow_run_pb2
from orion.v1 import state_pb2 as _state_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallError(_message.Message):
    __slots__ = ["code", "message"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ["flow_run_id", "lease_epoch", "message"]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    flow_run_id: str
    lease_epoch: int
    message: str
    def __init__(self, flow_run_id: _Optional[str] = ..., lease_epoch: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class ClaimFlowRunOutcome(_message.Message):
    __slots__ = ["error", "response"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    error: CallError
    response: ClaimFlowRunResponse
    def __init__(self, response: _Optional[_Union[ClaimFlowRunResponse, _Mapping]] = ..., error: _Optional[_Union[CallError, _Mapping]] = ...) -> None: ...

class ClaimFlowRunRequest(_message.Message):
    __slots__ = ["agent_id", "flow_run_id", "transition_id"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    flow_run_id: str
    transition_id: str
    def __init__(self, agent_id: _Optional[str] = ..., flow_run_id: _Optional[str] = ..., transition_id: _Optional[str] = ...) -> None: ...

class ClaimFlowRunResponse(_message.Message):
    __slots__ = ["deployment", "flow_run", "lease", "result"]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    flow_run: _flow_run_pb2.FlowRun
    lease: Lease
    result: _state_pb2.OrchestrationResult
    def __init__(self, result: _Optional[_Union[_state_pb2.OrchestrationResult, _Mapping]] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ..., deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ...) -> None: ...

class ClaimFlowRunsRequest(_message.Message):
    __slots__ = ["claims"]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    claims: _containers.RepeatedCompositeFieldContainer[ClaimFlowRunRequest]
    def __init__(self, claims: _Optional[_Iterable[_Union[ClaimFlowRunRequest, _Mapping]]] = ...) -> None: ...

class ClaimFlowRunsResponse(_message.Message):
    __slots__ = ["outcomes"]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[ClaimFlowRunOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[ClaimFlowRunOutcome, _Mapping]]] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ["agent_id", "runs"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    runs: _containers.RepeatedCompositeFieldContainer[HeldRun]
    def __init__(self, agent_id: _Optional[str] = ..., runs: _Optional[_Iterable[_Union[HeldRun, _Mapping]]] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ["cancels", "lease_expire_time", "lost_flow_run_ids"]
    CANCELS_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    LOST_FLOW_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    cancels: _containers.RepeatedCompositeFieldContainer[CancelRequest]
    lease_expire_time: _timestamp_pb2.Timestamp
    lost_flow_run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, lease_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., lost_flow_run_ids: _Optional[_Iterable[str]] = ..., cancels: _Optional[_Iterable[_Union[CancelRequest, _Mapping]]] = ...) -> None: ...

class HeldRun(_message.Message):
    __slots__ = ["flow_run_id", "lease_epoch"]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    flow_run_id: str
    lease_epoch: int
    def __init__(self, flow_run_id: _Optional[str] = ..., lease_epoch: _Optional[int] = ...) -> None: ...

class Keepalive(_message.Message):
    __slots__ = ["server_time"]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, server_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ["epoch", "expire_time"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, epoch: _Optional[int] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterAgentRequest(_message.Message):
    __slots__ = ["agent_id", "hostname", "infrastructure_types", "limit", "name", "version", "work_queues"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    INFRASTRUCTURE_TYPES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WORK_QUEUES_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    hostname: str
    infrastructure_types: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    name: str
    version: str
    work_queues: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, agent_id: _Optional[str] = ..., name: _Optional[str] = ..., hostname: _Optional[str] = ..., work_queues: _Optional[_Iterable[str]] = ..., infrastructure_types: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ..., version: _Optional[str] = ...) -> None: ...

class RegisterAgentResponse(_message.Message):
    __slots__ = ["agent_id", "batch_calls", "heartbeat_interval", "lease_duration", "report_logs"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_CALLS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    REPORT_LOGS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    batch_calls: bool
    heartbeat_interval: _duration_pb2.Duration
    lease_duration: _duration_pb2.Duration
    report_logs: bool
    def __init__(self, agent_id: _Optional[str] = ..., heartbeat_interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., lease_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., report_logs: bool = ..., batch_calls: bool = ...) -> None: ...

class ReportFlowRunStateOutcome(_message.Message):
    __slots__ = ["error", "response"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    error: CallError
    response: ReportFlowRunStateResponse
    def __init__(self, response: _Optional[_Union[ReportFlowRunStateResponse, _Mapping]] = ..., error: _Optional[_Union[CallError, _Mapping]] = ...) -> None: ...

class ReportFlowRunStateRequest(_message.Message):
    __slots__ = ["agent_id", "flow_run_id", "infrastructure_pid", "lease_epoch", "logs", "omit_flow_run", "state", "transition_id"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    INFRASTRUCTURE_PID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    OMIT_FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    flow_run_id: str
    infrastructure_pid: str
    lease_epoch: int
    logs: _containers.RepeatedCompositeFieldContainer[_flow_run_pb2.Log]
    omit_flow_run: bool
    state: _state_pb2.StateProposal
    transition_id: str
    def __init__(self, agent_id: _Optional[str] = ..., flow_run_id: _Optional[str] = ..., lease_epoch: _Optional[int] = ..., state: _Optional[_Union[_state_pb2.StateProposal, _Mapping]] = ..., transition_id: _Optional[str] = ..., infrastructure_pid: _Optional[str] = ..., logs: _Optional[_Iterable[_Union[_flow_run_pb2.Log, _Mapping]]] = ..., omit_flow_run: bool = ...) -> None: ...

class ReportFlowRunStateResponse(_message.Message):
    __slots__ = ["flow_run", "result"]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    flow_run: _flow_run_pb2.FlowRun
    result: _state_pb2.OrchestrationResult
    def __init__(self, result: _Optional[_Union[_state_pb2.OrchestrationResult, _Mapping]] = ..., flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ...) -> None: ...

class ReportFlowRunStatesRequest(_message.Message):
    __slots__ = ["reports"]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[ReportFlowRunStateRequest]
    def __init__(self, reports: _Optional[_Iterable[_Union[ReportFlowRunStateRequest, _Mapping]]] = ...) -> None: ...

class ReportFlowRunStatesResponse(_message.Message):
    __slots__ = ["outcomes"]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[ReportFlowRunStateOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[ReportFlowRunStateOutcome, _Mapping]]] = ...) -> None: ...

class StreamWorkRequest(_message.Message):
    __slots__ = ["agent_id"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class StreamWorkResponse(_message.Message):
    __slots__ = ["cancel", "keepalive", "offer"]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    KEEPALIVE_FIELD_NUMBER: _ClassVar[int]
    OFFER_FIELD_NUMBER: _ClassVar[int]
    cancel: CancelRequest
    keepalive: Keepalive
    offer: WorkOffer
    def __init__(self, offer: _Optional[_Union[WorkOffer, _Mapping]] = ..., cancel: _Optional[_Union[CancelRequest, _Mapping]] = ..., keepalive: _Optional[_Union[Keepalive, _Mapping]] = ...) -> None: ...

class WorkOffer(_message.Message):
    __slots__ = ["flow_run"]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    flow_run: _flow_run_pb2.FlowRun
    def __init__(self, flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ...) -> None: ...
