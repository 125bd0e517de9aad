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

class CancelFlowRunRequest(_message.Message):
    __slots__ = ["id", "message"]
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    message: str
    def __init__(self, id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class CancelFlowRunResponse(_message.Message):
    __slots__ = ["flow_run"]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    flow_run: _flow_run_pb2.FlowRun
    def __init__(self, flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ...) -> None: ...

class CreateFlowRunRequest(_message.Message):
    __slots__ = ["deployment_id", "flow_name", "idempotency_key", "infrastructure", "name", "parameters", "state", "tags"]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    INFRASTRUCTURE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    flow_name: str
    idempotency_key: str
    infrastructure: _deployment_pb2.Infrastructure
    name: str
    parameters: _struct_pb2.Struct
    state: _state_pb2.StateProposal
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, flow_name: _Optional[str] = ..., deployment_id: _Optional[str] = ..., name: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., idempotency_key: _Optional[str] = ..., state: _Optional[_Union[_state_pb2.StateProposal, _Mapping]] = ..., infrastructure: _Optional[_Union[_deployment_pb2.Infrastructure, _Mapping]] = ...) -> None: ...

class CreateFlowRunResponse(_message.Message):
    __slots__ = ["created", "flow_run"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    created: bool
    flow_run: _flow_run_pb2.FlowRun
    def __init__(self, flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ..., created: bool = ...) -> None: ...

class DeleteFlowRunRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteFlowRunResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class FlowRunHistoryInterval(_message.Message):
    __slots__ = ["counts", "end_time", "start_time"]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedCompositeFieldContainer[StateTypeCount]
    end_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., counts: _Optional[_Iterable[_Union[StateTypeCount, _Mapping]]] = ...) -> None: ...

class GetFlowRunHistoryRequest(_message.Message):
    __slots__ = ["deployment_id", "end_time", "interval", "start_time", "state_types"]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_TYPES_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    end_time: _timestamp_pb2.Timestamp
    interval: _duration_pb2.Duration
    start_time: _timestamp_pb2.Timestamp
    state_types: _containers.RepeatedScalarFieldContainer[_state_pb2.StateType]
    def __init__(self, start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., deployment_id: _Optional[str] = ..., state_types: _Optional[_Iterable[_Union[_state_pb2.StateType, str]]] = ...) -> None: ...

class GetFlowRunHistoryResponse(_message.Message):
    __slots__ = ["intervals"]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    intervals: _containers.RepeatedCompositeFieldContainer[FlowRunHistoryInterval]
    def __init__(self, intervals: _Optional[_Iterable[_Union[FlowRunHistoryInterval, _Mapping]]] = ...) -> None: ...

class GetFlowRunRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetFlowRunResponse(_message.Message):
    __slots__ = ["flow_run"]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    flow_run: _flow_run_pb2.FlowRun
    def __init__(self, flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ...) -> None: ...

class ListFlowRunStatesRequest(_message.Message):
    __slots__ = ["flow_run_id"]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    flow_run_id: str
    def __init__(self, flow_run_id: _Optional[str] = ...) -> None: ...

class ListFlowRunStatesResponse(_message.Message):
    __slots__ = ["states"]
    STATES_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedCompositeFieldContainer[_state_pb2.State]
    def __init__(self, states: _Optional[_Iterable[_Union[_state_pb2.State, _Mapping]]] = ...) -> None: ...

class ListFlowRunsRequest(_message.Message):
    __slots__ = ["deployment_id", "flow_name", "page_size", "page_token", "scheduled_before", "state_types", "tags", "wait_index", "work_queue_name"]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    STATE_TYPES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    WAIT_INDEX_FIELD_NUMBER: _ClassVar[int]
    WORK_QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    flow_name: str
    page_size: int
    page_token: str
    scheduled_before: _timestamp_pb2.Timestamp
    state_types: _containers.RepeatedScalarFieldContainer[_state_pb2.StateType]
    tags: _containers.RepeatedScalarFieldContainer[str]
    wait_index: int
    work_queue_name: str
    def __init__(self, flow_name: _Optional[str] = ..., deployment_id: _Optional[str] = ..., state_types: _Optional[_Iterable[_Union[_state_pb2.StateType, str]]] = ..., tags: _Optional[_Iterable[str]] = ..., work_queue_name: _Optional[str] = ..., scheduled_before: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., wait_index: _Optional[int] = ...) -> None: ...

class ListFlowRunsResponse(_message.Message):
    __slots__ = ["flow_runs", "index", "next_page_token"]
    FLOW_RUNS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flow_runs: _containers.RepeatedCompositeFieldContainer[_flow_run_pb2.FlowRun]
    index: int
    next_page_token: str
    def __init__(self, flow_runs: _Optional[_Iterable[_Union[_flow_run_pb2.FlowRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class RetryFlowRunRequest(_message.Message):
    __slots__ = ["id", "message", "transition_id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    message: str
    transition_id: str
    def __init__(self, id: _Optional[str] = ..., message: _Optional[str] = ..., transition_id: _Optional[str] = ...) -> None: ...

class RetryFlowRunResponse(_message.Message):
    __slots__ = ["flow_run", "result"]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    flow_run: _flow_run_pb2.FlowRun
    result: _state_pb2.OrchestrationResult
    def __init__(self, result: _Optional[_Union[_state_pb2.OrchestrationResult, _Mapping]] = ..., flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ...) -> None: ...

class SetFlowRunStateRequest(_message.Message):
    __slots__ = ["flow_run_id", "force", "state", "transition_id"]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_ID_FIELD_NUMBER: _ClassVar[int]
    flow_run_id: str
    force: bool
    state: _state_pb2.StateProposal
    transition_id: str
    def __init__(self, flow_run_id: _Optional[str] = ..., state: _Optional[_Union[_state_pb2.StateProposal, _Mapping]] = ..., force: bool = ..., transition_id: _Optional[str] = ...) -> None: ...

class SetFlowRunStateResponse(_message.Message):
    __slots__ = ["flow_run", "result"]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    flow_run: _flow_run_pb2.FlowRun
    result: _state_pb2.OrchestrationResult
    def __init__(self, result: _Optional[_Union[_state_pb2.OrchestrationResult, _Mapping]] = ..., flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ...) -> None: ...

class StateTypeCount(_message.Message):
    __slots__ = ["count", "state_type"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_TYPE_FIELD_NUMBER: _ClassVar[int]
    count: int
    state_type: _state_pb2.StateType
    def __init__(self, state_type: _Optional[_Union[_state_pb2.StateType, str]] = ..., count: _Optional[int] = ...) -> None: ...

class WatchFlowRunRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class WatchFlowRunResponse(_message.Message):
    __slots__ = ["flow_run"]
    FLOW_RUN_FIELD_NUMBER: _ClassVar[int]
    flow_run: _flow_run_pb2.FlowRun
    def __init__(self, flow_run: _Optional[_Union[_flow_run_pb2.FlowRun, _Mapping]] = ...) -> None: ...
