from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
FLOW_KIND_COMMAND: FlowKind
FLOW_KIND_PYTHON: FlowKind
FLOW_KIND_UNSPECIFIED: FlowKind

class CronSchedule(_message.Message):
    __slots__ = ["cron", "day_or", "timezone"]
    CRON_FIELD_NUMBER: _ClassVar[int]
    DAY_OR_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    cron: str
    day_or: bool
    timezone: str
    def __init__(self, cron: _Optional[str] = ..., timezone: _Optional[str] = ..., day_or: bool = ...) -> None: ...

class Deployment(_message.Message):
    __slots__ = ["command", "concurrency_limit", "create_time", "description", "flow_id", "flow_kind", "flow_location", "flow_name", "flow_source_digest", "id", "infrastructure", "is_schedule_active", "name", "parameter_schema", "parameters", "push_to_server", "retries", "retry_delay", "schedule", "schedule_watermark", "tags", "update_time", "work_queue_name"]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_KIND_FIELD_NUMBER: _ClassVar[int]
    FLOW_LOCATION_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    FLOW_SOURCE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INFRASTRUCTURE_FIELD_NUMBER: _ClassVar[int]
    IS_SCHEDULE_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    PUSH_TO_SERVER_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    WORK_QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    concurrency_limit: int
    create_time: _timestamp_pb2.Timestamp
    description: str
    flow_id: str
    flow_kind: FlowKind
    flow_location: str
    flow_name: str
    flow_source_digest: str
    id: str
    infrastructure: Infrastructure
    is_schedule_active: bool
    name: str
    parameter_schema: _struct_pb2.Struct
    parameters: _struct_pb2.Struct
    push_to_server: bool
    retries: int
    retry_delay: _duration_pb2.Duration
    schedule: Schedule
    schedule_watermark: _timestamp_pb2.Timestamp
    tags: _containers.RepeatedScalarFieldContainer[str]
    update_time: _timestamp_pb2.Timestamp
    work_queue_name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., flow_id: _Optional[str] = ..., flow_name: _Optional[str] = ..., flow_kind: _Optional[_Union[FlowKind, str]] = ..., flow_location: _Optional[str] = ..., push_to_server: bool = ..., flow_source_digest: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., parameter_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ..., is_schedule_active: bool = ..., tags: _Optional[_Iterable[str]] = ..., infrastructure: _Optional[_Union[Infrastructure, _Mapping]] = ..., work_queue_name: _Optional[str] = ..., retries: _Optional[int] = ..., retry_delay: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., description: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., concurrency_limit: _Optional[int] = ..., schedule_watermark: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Flow(_message.Message):
    __slots__ = ["create_time", "id", "name", "tags", "update_time"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    id: str
    name: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Infrastructure(_message.Message):
    __slots__ = ["config", "env", "type"]
    class EnvEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    config: _struct_pb2.Struct
    env: _containers.ScalarMap[str, str]
    type: str
    def __init__(self, type: _Optional[str] = ..., env: _Optional[_Mapping[str, str]] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class IntervalSchedule(_message.Message):
    __slots__ = ["anchor_date", "interval", "timezone"]
    ANCHOR_DATE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    anchor_date: _timestamp_pb2.Timestamp
    interval: _duration_pb2.Duration
    timezone: str
    def __init__(self, interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., anchor_date: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., timezone: _Optional[str] = ...) -> None: ...

class RRuleSchedule(_message.Message):
    __slots__ = ["rrule", "timezone"]
    RRULE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    rrule: str
    timezone: str
    def __init__(self, rrule: _Optional[str] = ..., timezone: _Optional[str] = ...) -> None: ...

class Schedule(_message.Message):
    __slots__ = ["cron", "interval", "rrule"]
    CRON_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    RRULE_FIELD_NUMBER: _ClassVar[int]
    cron: CronSchedule
    interval: IntervalSchedule
    rrule: RRuleSchedule
    def __init__(self, interval: _Optional[_Union[IntervalSchedule, _Mapping]] = ..., cron: _Optional[_Union[CronSchedule, _Mapping]] = ..., rrule: _Optional[_Union[RRuleSchedule, _Mapping]] = ...) -> None: ...

class FlowKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
