from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from orion.v1 import deployment_pb2 as _deployment_pb2
from orion.v1 import state_pb2 as _state_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FlowRun(_message.Message):
    __slots__ = ["agent_id", "auto_scheduled", "create_time", "delivery_count", "deployment_id", "deployment_name", "end_time", "expected_start_time", "flow_id", "flow_name", "id", "idempotency_key", "infrastructure", "infrastructure_pid", "lease_epoch", "lease_expire_time", "modify_index", "name", "next_scheduled_start_time", "parameters", "retries", "retry_delay", "run_count", "start_time", "state", "tags", "total_run_time", "update_time", "work_queue_name"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    AUTO_SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INFRASTRUCTURE_FIELD_NUMBER: _ClassVar[int]
    INFRASTRUCTURE_PID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    MODIFY_INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEXT_SCHEDULED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RUN_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    WORK_QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    auto_scheduled: bool
    create_time: _timestamp_pb2.Timestamp
    delivery_count: int
    deployment_id: str
    deployment_name: str
    end_time: _timestamp_pb2.Timestamp
    expected_start_time: _timestamp_pb2.Timestamp
    flow_id: str
    flow_name: str
    id: str
    idempotency_key: str
    infrastructure: _deployment_pb2.Infrastructure
    infrastructure_pid: str
    lease_epoch: int
    lease_expire_time: _timestamp_pb2.Timestamp
    modify_index: int
    name: str
    next_scheduled_start_time: _timestamp_pb2.Timestamp
    parameters: _struct_pb2.Struct
    retries: int
    retry_delay: _duration_pb2.Duration
    run_count: int
    start_time: _timestamp_pb2.Timestamp
    state: _state_pb2.State
    tags: _containers.RepeatedScalarFieldContainer[str]
    total_run_time: _duration_pb2.Duration
    update_time: _timestamp_pb2.Timestamp
    work_queue_name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., flow_id: _Optional[str] = ..., flow_name: _Optional[str] = ..., deployment_id: _Optional[str] = ..., deployment_name: _Optional[str] = ..., work_queue_name: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., idempotency_key: _Optional[str] = ..., state: _Optional[_Union[_state_pb2.State, _Mapping]] = ..., run_count: _Optional[int] = ..., expected_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., next_scheduled_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., total_run_time: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., auto_scheduled: bool = ..., infrastructure: _Optional[_Union[_deployment_pb2.Infrastructure, _Mapping]] = ..., retries: _Optional[int] = ..., retry_delay: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., agent_id: _Optional[str] = ..., lease_epoch: _Optional[int] = ..., lease_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., infrastructure_pid: _Optional[str] = ..., delivery_count: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., modify_index: _Optional[int] = ...) -> None: ...

class FlowRunSummary(_message.Message):
    __slots__ = ["end_time", "expected_start_time", "id", "name", "next_scheduled_start_time", "start_time", "state_name", "state_time", "state_type"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEXT_SCHEDULED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_TYPE_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    expected_start_time: _timestamp_pb2.Timestamp
    id: str
    name: str
    next_scheduled_start_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    state_name: str
    state_time: _timestamp_pb2.Timestamp
    state_type: _state_pb2.StateType
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., state_type: _Optional[_Union[_state_pb2.StateType, str]] = ..., state_name: _Optional[str] = ..., state_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expected_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., next_scheduled_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Log(_message.Message):
    __slots__ = ["flow_run_id", "level", "message", "name", "seq", "source", "source_position", "timestamp"]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_POSITION_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    flow_run_id: str
    level: int
    message: str
    name: str
    seq: int
    source: str
    source_position: int
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, flow_run_id: _Optional[str] = ..., level: _Optional[int] = ..., name: _Optional[str] = ..., message: _Optional[str] = ..., timestamp: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., seq: _Optional[int] = ..., source: _Optional[str] = ..., source_position: _Optional[int] = ...) -> None: ...
