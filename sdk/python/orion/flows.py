"""Flows: the ``@flow`` decorator and the :class:`Flow` object it returns."""

import functools
import inspect
import os
import typing

from orion._util import is_plain_json

__all__ = ["Flow", "flow", "parameter_schema", "set_call_hook"]

# Hook for direct calls of a flow object (``my_flow(x=1)`` in user code):
# ``fn(flow, args, kwargs)`` returns the result. orion.tracking installs one
# at the end of this module that records such calls as flow runs through the
# API (see that module for when it applies); without a hook a call simply
# runs the function.
_call_hook = None

# Keyword arguments Prefect's @flow accepts that Orion stores but ignores.
_IGNORED_OPTIONS = ("task_runner", "timeout_seconds", "validate_parameters")


def set_call_hook(hook):
    """Install ``hook(flow, args, kwargs)`` for direct flow calls (``None`` resets).

    Returns the previous hook so callers can restore it.
    """
    global _call_hook
    previous, _call_hook = _call_hook, hook
    return previous


class Flow:
    """A workflow function plus its metadata.

    Attributes:
        name: the flow's name; defaults to the function name with ``_``
            replaced by ``-`` (``hello_world`` -> ``"hello-world"``).
        fn: the wrapped function.
        version: the given version, else a hash of the defining file.
        description: the given description, else the function's docstring.
        retries, retry_delay_seconds: retry policy for runs of this flow
            (``None`` when unset). They are reported to the server, which
            owns retrying.
        parameters: the JSON schema of the function's parameters
            (see :func:`parameter_schema`).
    """

    def __init__(
        self,
        fn,
        name=None,
        version=None,
        description=None,
        retries=None,
        retry_delay_seconds=None,
        **options,
    ):
        if not callable(fn):
            raise TypeError("@flow must decorate a function, got %r" % (fn,))
        unknown = sorted(set(options) - set(_IGNORED_OPTIONS))
        if unknown:
            raise TypeError(
                "flow() got unexpected option(s): %s" % ", ".join(repr(u) for u in unknown)
            )
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValueError("Invalid `name` for flow: expected a non-empty string, got %r" % (name,))
        if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):
            raise ValueError("Invalid `retries` for flow: expected an integer >= 0, got %r" % (retries,))
        if retry_delay_seconds is not None and (
            isinstance(retry_delay_seconds, bool)
            or not isinstance(retry_delay_seconds, (int, float))
            or retry_delay_seconds < 0
        ):
            raise ValueError(
                "Invalid `retry_delay_seconds` for flow: expected a number >= 0, got %r" % (retry_delay_seconds,)
            )

        # Copy __name__, __doc__, __module__, ... first so that attributes of the
        # function can never clobber the flow's own fields set below.
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__).replace("_", "-")
        self._version = version
        self.description = description if description is not None else inspect.getdoc(fn)
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self.options = dict(options)
        self._parameters = None

    @property
    def version(self):
        """The flow's version: as given, else an MD5 hash of the defining file."""
        if self._version is None:
            self._version = _file_hash(getattr(self.fn, "__globals__", {}).get("__file__"))
        return self._version

    @version.setter
    def version(self, value):
        self._version = value

    @property
    def parameters(self):
        """JSON schema describing the flow's parameters (computed once)."""
        if self._parameters is None:
            self._parameters = parameter_schema(self.fn)
        return self._parameters

    @property
    def file(self):
        """Absolute path of the file that defines the flow, or ``None``."""
        path = getattr(self.fn, "__globals__", {}).get("__file__")
        return os.path.abspath(path) if path else None

    def __call__(self, *args, **kwargs):
        hook = _call_hook
        if hook is not None:
            return hook(self, args, kwargs)
        return self.fn(*args, **kwargs)

    def __repr__(self):
        return "Flow(name=%r, fn=%s)" % (self.name, getattr(self.fn, "__qualname__", self.fn))


def flow(__fn=None, *, name=None, version=None, description=None, retries=None, retry_delay_seconds=None, **options):
    """Turn a function into a :class:`Flow`.

    Usable bare (``@flow``) or with options (``@flow(name="etl", retries=2)``).
    Prefect's ``task_runner``, ``timeout_seconds`` and ``validate_parameters``
    options are accepted and ignored.
    """
    unknown = sorted(set(options) - set(_IGNORED_OPTIONS))
    if unknown:
        raise TypeError("flow() got unexpected option(s): %s" % ", ".join(repr(u) for u in unknown))
    kwargs = dict(
        name=name,
        version=version,
        description=description,
        retries=retries,
        retry_delay_seconds=retry_delay_seconds,
        **options,
    )
    if __fn is not None:
        return Flow(__fn, **kwargs)
    return lambda fn: Flow(fn, **kwargs)


# ---------------------------------------------------------------------------
# Parameter schema

_SIMPLE_TYPES = {
    int: "integer",
    float: "number",
    str: "string",
    bool: "boolean",
    list: "array",
    dict: "object",
}
_SIMPLE_TYPE_NAMES = {
    "int": "integer",
    "float": "number",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "List": "array",
    "typing.List": "array",
    "dict": "object",
    "Dict": "object",
    "typing.Dict": "object",
}


def _json_type(annotation):
    """Map a simple annotation (a type or its string form) to a JSON type."""
    if annotation is inspect.Parameter.empty:
        return None
    if isinstance(annotation, str):
        base = annotation.strip().split("[", 1)[0].strip()
        return _SIMPLE_TYPE_NAMES.get(base)
    if isinstance(annotation, type) and annotation in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[annotation]
    origin = typing.get_origin(annotation)
    if origin in (list, dict):
        return _SIMPLE_TYPES[origin]
    return None


def parameter_schema(fn):
    """Build the JSON schema of ``fn``'s parameters.

    Shape::

        {"type": "object",
         "properties": {"name": {"default": "world", "type": "string"}, ...},
         "required": ["x", ...],
         "additionalProperties": true}   # only when fn takes **kwargs

    ``type`` appears for the simple annotations int, float, str, bool, list
    and dict (also ``List[...]``/``Dict[...]`` and their string forms).
    ``default`` appears when the default is plain JSON; other defaults are
    omitted, but the parameter is still optional. ``*args`` is ignored.
    """
    schema = {"type": "object", "properties": {}, "required": []}
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        schema["additionalProperties"] = True
        return schema
    for param in sig.parameters.values():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            schema["additionalProperties"] = True
            continue
        prop = {}
        if param.default is inspect.Parameter.empty:
            schema["required"].append(param.name)
        elif is_plain_json(param.default):
            prop["default"] = param.default
        json_type = _json_type(param.annotation)
        if json_type:
            prop["type"] = json_type
        schema["properties"][param.name] = prop
    return schema


def _file_hash(path):
    """MD5 hex digest of the file at ``path`` (Prefect's default flow version)."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    import hashlib  # here, not at the top: loading OpenSSL costs every flow run ~5 ms

    try:
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    except (TypeError, ValueError):  # FIPS builds without MD5
        return hashlib.sha256(data).hexdigest()


def _install_tracking():
    from orion import tracking

    tracking.install()


_install_tracking()
