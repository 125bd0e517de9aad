from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Agent(_message.Message):
    __slots__ = ["connected", "hostname", "id", "infrastructure_types", "last_heartbeat_time", "limit", "name", "register_time", "runs_in_flight", "token_id", "version", "work_queues"]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INFRASTRUCTURE_TYPES_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGISTER_TIME_FIELD_NUMBER: _ClassVar[int]
    RUNS_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WORK_QUEUES_FIELD_NUMBER: _ClassVar[int]
    connected: bool
    hostname: str
    id: str
    infrastructure_types: _containers.RepeatedScalarFieldContainer[str]
    last_heartbeat_time: _timestamp_pb2.Timestamp
    limit: int
    name: str
    register_time: _timestamp_pb2.Timestamp
    runs_in_flight: int
    token_id: str
    version: str
    work_queues: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., hostname: _Optional[str] = ..., work_queues: _Optional[_Iterable[str]] = ..., infrastructure_types: _Optional[_Iterable[str]] = ..., version: _Optional[str] = ..., connected: bool = ..., runs_in_flight: _Optional[int] = ..., limit: _Optional[int] = ..., register_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_heartbeat_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., token_id: _Optional[str] = ...) -> None: ...

class WorkQueue(_message.Message):
    __slots__ = ["concurrency_limit", "create_time", "description", "id", "is_paused", "name", "tags", "update_time"]
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    IS_PAUSED_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    concurrency_limit: int
    create_time: _timestamp_pb2.Timestamp
    description: str
    id: str
    is_paused: bool
    name: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., is_paused: bool = ..., concurrency_limit: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
