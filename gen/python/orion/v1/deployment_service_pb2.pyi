from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from orion.v1 import deployment_pb2 as _deployment_pb2
from orion.v1 import flow_run_pb2 as _flow_run_pb2
from orion.v1 import state_pb2 as _state_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BackfillDeploymentRequest(_message.Message):
    __slots__ = ["end_time", "id", "start_time"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    id: str
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BackfillDeploymentResponse(_message.Message):
    __slots__ = ["created", "existing"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    created: int
    existing: int
    def __init__(self, created: _Optional[int] = ..., existing: _Optional[int] = ...) -> None: ...

class CreateDeploymentFlowRunRequest(_message.Message):
    __slots__ = ["deployment_id", "idempotency_key", "infrastructure", "name", "parameters", "retries", "retry_delay", "scheduled_time", "state", "tags"]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    INFRASTRUCTURE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    idempotency_key: str
    infrastructure: _deployment_pb2.Infrastructure
    name: str
    parameters: _struct_pb2.Struct
    retries: int
    retry_delay: _duration_pb2.Duration
    scheduled_time: _timestamp_pb2.Timestamp
    state: _state_pb2.StateProposal
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deployment_id: _Optional[str] = ..., name: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., idempotency_key: _Optional[str] = ..., scheduled_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., infrastructure: _Optional[_Union[_deployment_pb2.Infrastructure, _Mapping]] = ..., retries: _Optional[int] = ..., retry_delay: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., state: _Optional[_Union[_state_pb2.StateProposal, _Mapping]] = ...) -> None: ...

class CreateDeploymentFlowRunResponse(_message.Message):
    __slots__ = ["created", "flow_run"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    created: bool
    flow_run: _flow_run_pb2.FlowRun
    def __init__(self, flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ..., created: bool = ...) -> None: ...

class CreateDeploymentRequest(_message.Message):
    __slots__ = ["deployment"]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ...) -> None: ...

class CreateDeploymentResponse(_message.Message):
    __slots__ = ["created", "deployment"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    created: bool
    deployment: _deployment_pb2.Deployment
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., created: bool = ...) -> None: ...

class DeleteDeploymentRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteDeploymentResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeploymentRunSummary(_message.Message):
    __slots__ = ["deployment_id", "next_run", "recent_runs", "upcoming_runs"]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_FIELD_NUMBER: _ClassVar[int]
    RECENT_RUNS_FIELD_NUMBER: _ClassVar[int]
    UPCOMING_RUNS_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    next_run: _flow_run_pb2.FlowRunSummary
    recent_runs: _containers.RepeatedCompositeFieldContainer[_flow_run_pb2.FlowRunSummary]
    upcoming_runs: int
    def __init__(self, deployment_id: _Optional[str] = ..., recent_runs: _Optional[_Iterable[_Union[_flow_run_pb2.FlowRunSummary, _Mapping]]] = ..., next_run: _Optional[_Union[_flow_run_pb2.FlowRunSummary, _Mapping]] = ..., upcoming_runs: _Optional[int] = ...) -> None: ...

class GetDeploymentByNameRequest(_message.Message):
    __slots__ = ["deployment_name", "flow_name"]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    deployment_name: str
    flow_name: str
    def __init__(self, flow_name: _Optional[str] = ..., deployment_name: _Optional[str] = ...) -> None: ...

class GetDeploymentByNameResponse(_message.Message):
    __slots__ = ["deployment"]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ...) -> None: ...

class GetDeploymentRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetDeploymentResponse(_message.Message):
    __slots__ = ["deployment"]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ...) -> None: ...

class ListDeploymentRunSummariesRequest(_message.Message):
    __slots__ = ["deployment_ids", "recent_runs"]
    DEPLOYMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    RECENT_RUNS_FIELD_NUMBER: _ClassVar[int]
    deployment_ids: _containers.RepeatedScalarFieldContainer[str]
    recent_runs: int
    def __init__(self, deployment_ids: _Optional[_Iterable[str]] = ..., recent_runs: _Optional[int] = ...) -> None: ...

class ListDeploymentRunSummariesResponse(_message.Message):
    __slots__ = ["summaries"]
    SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    summaries: _containers.RepeatedCompositeFieldContainer[DeploymentRunSummary]
    def __init__(self, summaries: _Optional[_Iterable[_Union[DeploymentRunSummary, _Mapping]]] = ...) -> None: ...

class ListDeploymentsRequest(_message.Message):
    __slots__ = ["flow_name", "page_size", "page_token", "tags"]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    flow_name: str
    page_size: int
    page_token: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, flow_name: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeploymentsResponse(_message.Message):
    __slots__ = ["deployments", "next_page_token"]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deployments: _containers.RepeatedCompositeFieldContainer[_deployment_pb2.Deployment]
    next_page_token: str
    def __init__(self, deployments: _Optional[_Iterable[_Union[_deployment_pb2.Deployment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SetDeploymentScheduleActiveRequest(_message.Message):
    __slots__ = ["active", "id"]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    active: bool
    id: str
    def __init__(self, id: _Optional[str] = ..., active: bool = ...) -> None: ...

class SetDeploymentScheduleActiveResponse(_message.Message):
    __slots__ = ["deployment"]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ...) -> None: ...
