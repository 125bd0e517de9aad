"""Execute one flow run: ``python3 -m orion.runtime.run``.

Usage::

    python3 -u -m orion.runtime.run --flow-file F [--flow-name N]
        [--parameters-file P.json] [--result-file R.json]

Steps:

1. Load the flow: ``runpy.run_path(F, run_name="__orion_flow__")`` with F's
   directory first on ``sys.path`` (``if __name__ == "__main__":`` blocks do
   not run). Deployment specs, schedules and flow runners constructed by the
   file are inert for the whole process.
2. Read the parameters: a JSON object (default ``{}``), checked against the
   function's signature (unknown names, missing required ones).
3. Call the function (``async def`` flows are run with ``asyncio.run``).

Exit codes and the result file (written atomically: temp file + os.replace;
in place when the path is a mount point, such as the termination message
file Kubernetes mounts; at most ``$ORION_RESULT_MAX_BYTES`` bytes when that
is set, the message and result being cut to fit)::

    0  {"state": "COMPLETED", "message": "Flow run completed.", "result": "<repr, max 1000 chars>"}
    1  {"state": "FAILED", "message": "<ExcType>: <msg>"}              flow raised; traceback on stderr
    2  {"state": "FAILED", "message": "Flow run received invalid parameters: ..."}
    2  {"state": "FAILED", "message": "Flow could not be loaded: ..."}  details on stderr

The flow's stdout and stderr stream live (line-buffered / unbuffered).
Orchestration (states on the server, retries) is the caller's job.
"""

import argparse
import errno
import inspect
import json
import os
import sys
import tempfile

from orion import _context
from orion.runtime.scripts import FlowLoadError, exception_summary, format_user_traceback, load_flow_from_script

RUN_NAME = "__orion_flow__"
RESULT_REPR_LIMIT = 1000
# Set by runners that can bring back only so much of the result file (the
# Kubernetes runner: a termination message keeps at most 4096 bytes).
RESULT_MAX_BYTES_ENV = "ORION_RESULT_MAX_BYTES"

EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


class InvalidParameters(Exception):
    """The parameters do not fit the flow's signature."""


def bind_parameters(fn, parameters):
    """Split ``parameters`` into ``(args, kwargs)`` for calling ``fn``.

    Positional-only parameters are passed positionally, the rest by name.
    Raises :class:`InvalidParameters` naming unknown and missing parameters.
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return (), dict(parameters)
    params = sig.parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = {
        name: p
        for name, p in params.items()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    }
    unknown = [k for k in parameters if k not in named and not takes_kwargs]
    missing = [
        name for name, p in named.items() if p.default is inspect.Parameter.empty and name not in parameters
    ]
    problems = []
    if unknown:
        problems.append("unexpected parameter(s) %s" % ", ".join(repr(k) for k in unknown))
    if missing:
        problems.append("missing required parameter(s) %s" % ", ".join(repr(k) for k in missing))
    if problems:
        raise InvalidParameters("; ".join(problems))

    args, kwargs = [], {}
    positional_only = [
        name for name, p in named.items() if p.kind is inspect.Parameter.POSITIONAL_ONLY
    ]
    for index, name in enumerate(positional_only):
        if name in parameters:
            args.append(parameters[name])
        else:
            # A later positional-only parameter was given: pass the default
            # of this one positionally to keep the positions right.
            if any(later in parameters for later in positional_only[index + 1 :]):
                args.append(named[name].default)
            else:
                break
    for key, value in parameters.items():
        if key in named and named[key].kind is inspect.Parameter.POSITIONAL_ONLY:
            continue
        kwargs[key] = value
    return tuple(args), kwargs


def read_parameters(path):
    """Read the parameters file (a JSON object); ``{}`` when no path."""
    if not path:
        return {}
    try:
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise InvalidParameters("cannot read parameters file %r: %s" % (path, exc)) from None
    if not isinstance(data, dict):
        raise InvalidParameters("parameters file %r must hold a JSON object, got %s" % (path, type(data).__name__))
    return data


def encode_result(result, max_bytes=None):
    """``result`` as one line of JSON, within ``max_bytes`` when given: the
    result's repr, then the message, are halved (keeping their beginning)
    until the line fits."""
    result = dict(result)

    def line():
        return (json.dumps(result, ensure_ascii=True) + "\n").encode("ascii")

    data = line()
    while max_bytes and len(data) > max_bytes:
        for key in ("result", "message"):
            text = result.get(key)
            if isinstance(text, str) and len(text) > 16:
                result[key] = text[: len(text) // 2] + " ... (cut)"
                break
        else:
            break  # nothing left to cut: the state alone
        data = line()
    return data


def _max_result_bytes():
    try:
        return max(0, int(os.environ.get(RESULT_MAX_BYTES_ENV, "0")))
    except ValueError:
        return 0


def write_result(path, result):
    """Write ``result`` as JSON to ``path`` atomically (no-op without path).

    When the rename is refused because ``path`` is a mount point (the file
    Kubernetes mounts for a container's termination message), the file is
    written in place: it is read only after the process has ended.
    """
    if not path:
        return
    data = encode_result(result, _max_result_bytes())
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".orion-result-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno not in (errno.EBUSY, errno.EXDEV):
                raise
            os.unlink(tmp)
            with open(path, "wb") as f:
                f.write(data)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def short_repr(value, limit=RESULT_REPR_LIMIT):
    """``repr(value)`` cut to at most ``limit`` characters."""
    try:
        text = repr(value)
    except Exception as exc:
        text = "<unrepresentable %s: %s>" % (type(value).__name__, exception_summary(exc))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _line_buffer_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="python3 -m orion.runtime.run", description="Run one Orion flow.")
    parser.add_argument("--flow-file", required=True, help="script that defines the flow")
    parser.add_argument("--flow-name", default=None, help="flow to run when the script defines several")
    parser.add_argument("--parameters-file", default=None, help="JSON object of parameters")
    parser.add_argument("--result-file", default=None, help="where to write the JSON result")
    return parser.parse_args(argv)


def run(args):
    """Run the flow described by ``args``; return ``(exit_code, result)``."""
    try:
        flow = load_flow_from_script(args.flow_file, args.flow_name, run_name=RUN_NAME)
    except FlowLoadError as exc:
        sys.stderr.write(exc.message + "\n")
        if exc.traceback:
            sys.stderr.write(exc.traceback)
        return EXIT_INVALID, {"state": "FAILED", "message": "Flow could not be loaded: %s" % exc.message}

    try:
        args_, kwargs = bind_parameters(flow.fn, read_parameters(args.parameters_file))
    except InvalidParameters as exc:
        message = "Flow run received invalid parameters: %s" % exc
        sys.stderr.write(message + "\n")
        return EXIT_INVALID, {"state": "FAILED", "message": message}

    try:
        value = flow.fn(*args_, **kwargs)
        if inspect.isawaitable(value):
            import asyncio  # only async flows pay its ~20 ms import

            value = asyncio.run(_await(value))
    except SystemExit as exc:
        if exc.code in (None, 0):
            value = None
        else:
            sys.stderr.write(format_user_traceback(exc))
            return EXIT_FAILED, {"state": "FAILED", "message": exception_summary(exc)}
    except BaseException as exc:  # KeyboardInterrupt included: report it
        sys.stderr.write(format_user_traceback(exc))
        return EXIT_FAILED, {"state": "FAILED", "message": exception_summary(exc)}
    return EXIT_COMPLETED, {"state": "COMPLETED", "message": "Flow run completed.", "result": short_repr(value)}


async def _await(awaitable):
    return await awaitable


def main(argv=None):
    """Command-line entry point."""
    _line_buffer_streams()
    args = _parse_args(argv)
    _context.enter_inert()
    code, result = run(args)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        write_result(args.result_file, result)
    except OSError as exc:
        sys.stderr.write("Could not write the result file %r: %s\n" % (args.result_file, exc))
        code = code or EXIT_FAILED
    sys.exit(code)


if __name__ == "__main__":
    main()
