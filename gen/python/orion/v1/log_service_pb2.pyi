from orion.v1 import flow_run_pb2 as _flow_run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateLogsRequest(_message.Message):
    __slots__ = ["logs"]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    logs: _containers.RepeatedCompositeFieldContainer[_flow_run_pb2.Log]
    def __init__(self, logs: _Optional[_Iterable[_Union[_flow_run_pb2.Log, _Mapping]]] = ...) -> None: ...

class CreateLogsResponse(_message.Message):
    __slots__ = ["count"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class FollowLogsRequest(_message.Message):
    __slots__ = ["after_seq", "flow_run_id", "min_level"]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_LEVEL_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    flow_run_id: str
    min_level: int
    def __init__(self, flow_run_id: _Optional[str] = ..., after_seq: _Optional[int] = ..., min_level: _Optional[int] = ...) -> None: ...

class FollowLogsResponse(_message.Message):
    __slots__ = ["log"]
    LOG_FIELD_NUMBER: _ClassVar[int]
    log: _flow_run_pb2.Log
    def __init__(self, log: _Optional[_Union[_flow_run_pb2.Log, _Mapping]] = ...) -> None: ...

class ListLogsRequest(_message.Message):
    __slots__ = ["after_seq", "flow_run_id", "min_level", "page_size"]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    FLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_LEVEL_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    flow_run_id: str
    min_level: int
    page_size: int
    def __init__(self, flow_run_id: _Optional[str] = ..., after_seq: _Optional[int] = ..., min_level: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListLogsResponse(_message.Message):
    __slots__ = ["logs", "next_after_seq"]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    logs: _containers.RepeatedCompositeFieldContainer[_flow_run_pb2.Log]
    next_after_seq: int
    def __init__(self, logs: _Optional[_Iterable[_Union[_flow_run_pb2.Log, _Mapping]]] = ..., next_after_seq: _Optional[int] = ...) -> None: ...
