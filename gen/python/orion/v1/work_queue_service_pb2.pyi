from orion.v1 import flow_run_pb2 as _flow_run_pb2
from orion.v1 import work_queue_pb2 as _work_queue_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateWorkQueueRequest(_message.Message):
    __slots__ = ["work_queue"]
    WORK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    work_queue: _work_queue_pb2.WorkQueue
    def __init__(self, work_queue: _Optional[_Union[_work_queue_pb2.WorkQueue, _Mapping]] = ...) -> None: ...

class CreateWorkQueueResponse(_message.Message):
    __slots__ = ["work_queue"]
    WORK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    work_queue: _work_queue_pb2.WorkQueue
    def __init__(self, work_queue: _Optional[_Union[_work_queue_pb2.WorkQueue, _Mapping]] = ...) -> None: ...

class DeleteWorkQueueRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteWorkQueueResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetWorkQueueByNameRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetWorkQueueByNameResponse(_message.Message):
    __slots__ = ["work_queue"]
    WORK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    work_queue: _work_queue_pb2.WorkQueue
    def __init__(self, work_queue: _Optional[_Union[_work_queue_pb2.WorkQueue, _Mapping]] = ...) -> None: ...

class GetWorkQueueRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetWorkQueueResponse(_message.Message):
    __slots__ = ["work_queue"]
    WORK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    work_queue: _work_queue_pb2.WorkQueue
    def __init__(self, work_queue: _Optional[_Union[_work_queue_pb2.WorkQueue, _Mapping]] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ["agents"]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[_work_queue_pb2.Agent]
    def __init__(self, agents: _Optional[_Iterable[_Union[_work_queue_pb2.Agent, _Mapping]]] = ...) -> None: ...

class ListWorkQueueStatsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListWorkQueueStatsResponse(_message.Message):
    __slots__ = ["stats"]
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: _containers.RepeatedCompositeFieldContainer[WorkQueueStats]
    def __init__(self, stats: _Optional[_Iterable[_Union[WorkQueueStats, _Mapping]]] = ...) -> None: ...

class ListWorkQueuesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListWorkQueuesResponse(_message.Message):
    __slots__ = ["work_queues"]
    WORK_QUEUES_FIELD_NUMBER: _ClassVar[int]
    work_queues: _containers.RepeatedCompositeFieldContainer[_work_queue_pb2.WorkQueue]
    def __init__(self, work_queues: _Optional[_Iterable[_Union[_work_queue_pb2.WorkQueue, _Mapping]]] = ...) -> None: ...

class PreviewWorkQueueRequest(_message.Message):
    __slots__ = ["hours", "id", "page_size"]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    hours: int
    id: str
    page_size: int
    def __init__(self, id: _Optional[str] = ..., hours: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class PreviewWorkQueueResponse(_message.Message):
    __slots__ = ["flow_runs"]
    FLOW_RUNS_FIELD_NUMBER: _ClassVar[int]
    flow_runs: _containers.RepeatedCompositeFieldContainer[_flow_run_pb2.FlowRun]
    def __init__(self, flow_runs: _Optional[_Iterable[_Union[_flow_run_pb2.FlowRun, _Mapping]]] = ...) -> None: ...

class UpdateWorkQueueRequest(_message.Message):
    __slots__ = ["clear_concurrency_limit", "concurrency_limit", "description", "id", "is_paused", "tags", "update_tags"]
    CLEAR_CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    IS_PAUSED_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TAGS_FIELD_NUMBER: _ClassVar[int]
    clear_concurrency_limit: bool
    concurrency_limit: int
    description: str
    id: str
    is_paused: bool
    tags: _containers.RepeatedScalarFieldContainer[str]
    update_tags: bool
    def __init__(self, id: _Optional[str] = ..., description: _Optional[str] = ..., is_paused: bool = ..., concurrency_limit: _Optional[int] = ..., clear_concurrency_limit: bool = ..., tags: _Optional[_Iterable[str]] = ..., update_tags: bool = ...) -> None: ...

class UpdateWorkQueueResponse(_message.Message):
    __slots__ = ["work_queue"]
    WORK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    work_queue: _work_queue_pb2.WorkQueue
    def __init__(self, work_queue: _Optional[_Union[_work_queue_pb2.WorkQueue, _Mapping]] = ...) -> None: ...

class WorkQueueStats(_message.Message):
    __slots__ = ["late_runs", "pending_runs", "runs_in_flight", "work_queue_id", "work_queue_name"]
    LATE_RUNS_FIELD_NUMBER: _ClassVar[int]
    PENDING_RUNS_FIELD_NUMBER: _ClassVar[int]
    RUNS_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    WORK_QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    WORK_QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    late_runs: int
    pending_runs: int
    runs_in_flight: int
    work_queue_id: str
    work_queue_name: str
    def __init__(self, work_queue_id: _Optional[str] = ..., work_queue_name: _Optional[str] = ..., pending_runs: _Optional[int] = ..., late_runs: _Optional[int] = ..., runs_in_flight: _Optional[int] = ...) -> None: ...
