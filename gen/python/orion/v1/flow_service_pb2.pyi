from orion.v1 import deployment_pb2 as _deployment_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateFlowRequest(_message.Message):
    __slots__ = ["name", "tags"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateFlowResponse(_message.Message):
    __slots__ = ["created", "flow"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FLOW_FIELD_NUMBER: _ClassVar[int]
    created: bool
    flow: _deployment_pb2.Flow
    def __init__(self, flow: _Optional[_Union[_deployment_pb2.Flow, _Mapping]] = ..., created: bool = ...) -> None: ...

class GetFlowByNameRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetFlowByNameResponse(_message.Message):
    __slots__ = ["flow"]
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: _deployment_pb2.Flow
    def __init__(self, flow: _Optional[_Union[_deployment_pb2.Flow, _Mapping]] = ...) -> None: ...

class GetFlowRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetFlowResponse(_message.Message):
    __slots__ = ["flow"]
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: _deployment_pb2.Flow
    def __init__(self, flow: _Optional[_Union[_deployment_pb2.Flow, _Mapping]] = ...) -> None: ...

class GetFlowSourceRequest(_message.Message):
    __slots__ = ["digest"]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...

class GetFlowSourceResponse(_message.Message):
    __slots__ = ["digest", "file_name", "text"]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    digest: str
    file_name: str
    text: str
    def __init__(self, digest: _Optional[str] = ..., text: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class ListFlowsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListFlowsResponse(_message.Message):
    __slots__ = ["flows", "next_page_token"]
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flows: _containers.RepeatedCompositeFieldContainer[_deployment_pb2.Flow]
    next_page_token: str
    def __init__(self, flows: _Optional[_Iterable[_Union[_deployment_pb2.Flow, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PutFlowSourceRequest(_message.Message):
    __slots__ = ["file_name", "text"]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    text: str
    def __init__(self, text: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class PutFlowSourceResponse(_message.Message):
    __slots__ = ["digest"]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...
