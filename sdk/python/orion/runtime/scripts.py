"""Executing user scripts and finding the flows they define.

Error messages match Prefect 2.0b1's ``load_flow_from_script``:

* ``No flows found at path '<p>'.``
* ``Flow '<x>' not found at path '<p>'. Found the following flows: a, b``
* ``Found N flows at '<p>': a, b. Specify a flow name to select a flow to deploy.``
* ``Script at '<p>' encountered an exception: <Type>: <message>`` (plus the
  user's part of the traceback, like Prefect's ``FlowScriptError``).
"""

import os
import runpy
import sys
import sysconfig
import traceback

from orion import _context
from orion._util import is_runtime_file
from orion.flows import Flow

__all__ = [
    "FlowLoadError",
    "MissingFlowError",
    "ScriptError",
    "ScriptNotFoundError",
    "UnspecifiedFlowError",
    "exception_summary",
    "format_user_traceback",
    "load_flow_from_script",
    "load_flows_from_script",
    "run_script",
    "select_flow",
]


class FlowLoadError(Exception):
    """A flow could not be loaded; ``message`` is one line for the user."""

    traceback = ""

    def __init__(self, message, path=None):
        super().__init__(message)
        self.message = message
        self.path = path


class ScriptNotFoundError(FlowLoadError):
    """The script does not exist."""


class MissingFlowError(FlowLoadError):
    """The script defines no flow, or none with the requested name."""


class UnspecifiedFlowError(FlowLoadError):
    """The script defines several flows and no flow name was given."""


class ScriptError(FlowLoadError):
    """The script raised while it was executed.

    Attributes:
        path: absolute path of the script.
        user_exc: the exception the script raised.
        message: ``Script at '<path>' encountered an exception: <Type>: <msg>``.
        traceback: the traceback text without the runtime's own frames.
    """

    def __init__(self, path, exc):
        message = "Script at '%s' encountered an exception: %s" % (path, exception_summary(exc))
        super().__init__(message, path)
        self.user_exc = exc
        self.traceback = format_user_traceback(exc)


def exception_summary(exc):
    """``"<Type>: <message>"`` (or just ``"<Type>"`` when the message is empty)."""
    if isinstance(exc, SyntaxError):
        lines = traceback.format_exception_only(type(exc), exc)
        return lines[-1].strip() if lines else type(exc).__name__
    try:
        text = str(exc)
    except Exception:
        text = "<exception str() failed>"
    name = type(exc).__name__
    return "%s: %s" % (name, text) if text else name


def _is_leading_noise(filename):
    """Frames that may precede user code: the runtime, runpy and the standard
    library's own machinery (asyncio for ``async def`` flows)."""
    if is_runtime_file(filename):
        return True
    norm = os.path.normcase(os.path.abspath(filename))
    if "site-packages" in norm or "dist-packages" in norm:
        return False
    return any(norm.startswith(d + os.sep) for d in _STDLIB_DIRS)


_STDLIB_DIRS = tuple(
    sorted(
        {
            os.path.normcase(os.path.abspath(p))
            for p in (sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib"))
            if p
        }
    )
)


def format_user_traceback(exc):
    """Format ``exc`` showing only the user's frames, as Prefect's
    ``FlowScriptError`` does.

    Leading frames of the runtime, runpy and the standard library's own
    machinery (asyncio for ``async def`` flows) are dropped, so the traceback
    starts at the first frame of user code. Trailing frames inside the
    runtime are dropped too, so a validation error raised by
    ``DeploymentSpec(...)`` ends at the user's line that built the spec.
    """
    tb = exc.__traceback__
    while tb is not None and _is_leading_noise(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    te = traceback.TracebackException(type(exc), exc, tb)
    frames = list(te.stack)
    keep = len(frames)
    while keep > 1 and is_runtime_file(frames[keep - 1].filename):
        keep -= 1
    if keep < len(frames) and not is_runtime_file(frames[keep - 1].filename):
        te.stack = traceback.StackSummary.from_list(frames[:keep])
    return "".join(te.format())


def run_script(path, run_name):
    """Execute the script at ``path`` with ``runpy.run_path`` and return its
    globals. The script's directory is put first on ``sys.path``; the working
    directory is left alone.

    Raises:
        ScriptNotFoundError: no file at ``path``.
        ScriptError: the script raised (``SystemExit`` included).
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.exists(path):
        raise ScriptNotFoundError("File not found at path '%s'." % path, path)
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        return runpy.run_path(path, run_name=run_name)
    except (Exception, SystemExit) as exc:
        raise ScriptError(path, exc) from None


def load_flows_from_script(path, run_name="__orion_loader__"):
    """Run a script only to find its flows; returns ``{name: Flow}`` in the
    order they appear. Deployment specs in the script are neither validated
    nor registered while it runs."""
    with _context.inert():
        namespace = run_script(path, run_name)
    return flows_in(namespace)


def flows_in(namespace):
    """``{flow.name: flow}`` for every Flow among ``namespace``'s values."""
    flows = {}
    for value in namespace.values():
        if isinstance(value, Flow):
            flows[value.name] = value
    return flows


def select_flow(flows, flow_name, path):
    """Pick the flow named ``flow_name`` (or the only flow) from ``flows``."""
    if not flows:
        raise MissingFlowError("No flows found at path '%s'." % path, path)
    if flow_name:
        if flow_name not in flows:
            raise MissingFlowError(
                "Flow '%s' not found at path '%s'. Found the following flows: %s"
                % (flow_name, path, ", ".join(flows)),
                path,
            )
        return flows[flow_name]
    if len(flows) > 1:
        raise UnspecifiedFlowError(
            "Found %d flows at '%s': %s. Specify a flow name to select a flow to deploy."
            % (len(flows), path, ", ".join(flows)),
            path,
        )
    return next(iter(flows.values()))


def load_flow_from_script(path, flow_name=None, run_name="__orion_loader__"):
    """Run the script at ``path`` and return its flow named ``flow_name``
    (or its only flow)."""
    path = os.path.abspath(os.fspath(path))
    return select_flow(load_flows_from_script(path, run_name), flow_name, path)
