from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ORCHESTRATION_STATUS_ABORT: OrchestrationStatus
ORCHESTRATION_STATUS_ACCEPT: OrchestrationStatus
ORCHESTRATION_STATUS_REJECT: OrchestrationStatus
ORCHESTRATION_STATUS_UNSPECIFIED: OrchestrationStatus
ORCHESTRATION_STATUS_WAIT: OrchestrationStatus
STATE_TYPE_CANCELLED: StateType
STATE_TYPE_CANCELLING: StateType
STATE_TYPE_COMPLETED: StateType
STATE_TYPE_CRASHED: StateType
STATE_TYPE_FAILED: StateType
STATE_TYPE_PAUSED: StateType
STATE_TYPE_PENDING: StateType
STATE_TYPE_RUNNING: StateType
STATE_TYPE_SCHEDULED: StateType
STATE_TYPE_UNSPECIFIED: StateType

class OrchestrationResult(_message.Message):
    __slots__ = ["delay", "reason", "state", "status"]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    delay: _duration_pb2.Duration
    reason: str
    state: State
    status: OrchestrationStatus
    def __init__(self, status: _Optional[_Union[OrchestrationStatus, str]] = ..., state: _Optional[_Union[State, _Mapping]] = ..., reason: _Optional[str] = ..., delay: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class State(_message.Message):
    __slots__ = ["exit_code", "id", "message", "name", "scheduled_time", "timestamp", "transition_id", "type"]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    id: str
    message: str
    name: str
    scheduled_time: _timestamp_pb2.Timestamp
    timestamp: _timestamp_pb2.Timestamp
    transition_id: str
    type: StateType
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[StateType, str]] = ..., name: _Optional[str] = ..., message: _Optional[str] = ..., timestamp: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., transition_id: _Optional[str] = ..., exit_code: _Optional[int] = ...) -> None: ...

class StateProposal(_message.Message):
    __slots__ = ["exit_code", "message", "name", "scheduled_time", "type"]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    message: str
    name: str
    scheduled_time: _timestamp_pb2.Timestamp
    type: StateType
    def __init__(self, type: _Optional[_Union[StateType, str]] = ..., name: _Optional[str] = ..., message: _Optional[str] = ..., scheduled_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., exit_code: _Optional[int] = ...) -> None: ...

class StateType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class OrchestrationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
