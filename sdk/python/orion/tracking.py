"""Track direct flow calls as flow runs through the API.

Calling a ``@flow`` function directly (``hello_world()`` in a script's
``__main__`` block) creates a flow run on the server, like Prefect Orion:

* the flow is created on first use; the run starts RUNNING with the bound
  call arguments as parameters (defaults applied; values that are not JSON
  are stored as their repr);
* ``print()`` output and ``get_run_logger()`` records become the run's logs,
  sent in batches in the background and flushed at the end; the console
  output is unchanged apart from two engine lines on stderr
  (``Created flow run ...`` and ``Finished in state ...``);
* the run ends COMPLETED, or FAILED with ``"<Type>: <msg>"`` and the
  traceback in the logs. The flow's return value and exception are never
  changed by tracking.

Which server: ``$ORION_API_URL`` if it answers; when it is unset, the default
``http://127.0.0.1:4200`` if it answers; otherwise a short-lived embedded
server (:mod:`orion.embedded`) on ``$ORION_HOME``'s store, stopped when the
flow returns. If none can be used, the flow runs untracked and one warning
line goes to stderr.

Not tracked: ``ORION_TRACKING=0`` (or ``false``/``no``/``off``), calls inside
an agent-started run (``ORION_FLOW_RUN_ID`` is set, or the process is
``orion.runtime.run``), calls while ``orion.runtime.load`` executes a
deployment script, and flows called from inside a tracked flow (they simply
run; sub-runs are not recorded).
"""

import inspect
import logging
import os
import sys
import threading
import time

from orion import _context
from orion._util import cap_utf8, to_jsonable
from orion.loggers import _LOGGER_NAME as _RUN_LOGGER
from orion.api import DEFAULT_API_URL, APIError, Client, api_url_from_env, timestamp

__all__ = ["install", "tracking_enabled"]

# Log batches: sent every FLUSH_INTERVAL seconds or once BATCH_SIZE entries wait.
FLUSH_INTERVAL = 1.0
BATCH_SIZE = 500
# A batch the server refused for now (rate limit, restart) is sent again.
RETRY_ATTEMPTS = 12
RETRY_FIRST_DELAY = 0.1
RETRY_MAX_DELAY = 5.0
# The server rejects longer lines (server/rpc/logs.go MaxLogMessageSize).
MAX_MESSAGE_BYTES = 1_000_000
PARAMETER_REPR_LIMIT = 1000

LEVEL_INFO = 20
LEVEL_ERROR = 40

_ENGINE_LOGGER = "orion.engine"

_lock = threading.Lock()
_active = 0  # tracked runs in progress in this process (nesting guard)


def tracking_enabled():
    """False when ``$ORION_TRACKING`` turns tracking off or an agent runs this process."""
    value = os.environ.get("ORION_TRACKING", "").strip().lower()
    if value in ("0", "false", "no", "off"):
        return False
    if os.environ.get("ORION_FLOW_RUN_ID", "").strip():
        return False
    return True


def _runtime_owns_process():
    """True inside ``orion.runtime.run`` (inert) or while the loader collects specs."""
    return _context.is_inert() or getattr(_context, "_registry", None) is not None


def _warn(message):
    stream = sys.__stderr__ or sys.stderr
    try:
        stream.write("orion: %s\n" % message)
        stream.flush()
    except Exception:
        pass


# ---------------------------------------------------------------------------
# Parameters


def _short_repr(value):
    try:
        text = repr(value)
    except Exception as exc:
        text = "<unrepresentable %s: %s>" % (type(value).__name__, type(exc).__name__)
    if len(text) > PARAMETER_REPR_LIMIT:
        text = text[: PARAMETER_REPR_LIMIT - 3] + "..."
    return text


def call_parameters(fn, args, kwargs):
    """Bind a call to ``fn``'s signature: ``{name: value}`` with defaults applied.

    Raises ``TypeError`` when the arguments do not fit, as the call would.
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return dict(kwargs)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def json_parameters(parameters):
    """Each value as JSON when it converts, else its repr (at most 1000 chars)."""
    out = {}
    for name, value in parameters.items():
        try:
            out[name] = to_jsonable(value)
        except (TypeError, ValueError, RecursionError):
            out[name] = _short_repr(value)
    return out


# ---------------------------------------------------------------------------
# Log shipping


class _LogShipper:
    """Queues log entries and sends them in batches from a background thread."""

    def __init__(self, client, flow_run_id):
        self.client = client
        self.flow_run_id = flow_run_id
        self._cond = threading.Condition()
        self._pending = []
        self._closed = False
        self._failed = False
        self._thread = threading.Thread(target=self._loop, name="orion-log-shipper", daemon=True)
        self._thread.start()

    def add(self, level, name, message, when=None):
        entry = {
            "flow_run_id": self.flow_run_id,
            "level": int(level),
            "name": name,
            "message": cap_utf8(message, MAX_MESSAGE_BYTES, " ...[truncated: %d bytes]"),
            "timestamp": timestamp(when),
        }
        with self._cond:
            if self._closed or self._failed:
                return
            self._pending.append(entry)
            if len(self._pending) >= BATCH_SIZE:
                self._cond.notify()

    def _take(self):
        batch, self._pending = self._pending[:BATCH_SIZE], self._pending[BATCH_SIZE:]
        return batch

    def _send(self, batch):
        # A refused batch (429: the run logs faster than the server's limit;
        # 503 or no answer: a restart) was stored not at all, so sending it
        # again neither loses nor repeats a line.
        delay = RETRY_FIRST_DELAY
        for attempt in range(RETRY_ATTEMPTS):
            try:
                self.client.create_logs(batch)
                return
            except APIError as exc:
                retry = exc.status in (None, 429, 503) and attempt + 1 < RETRY_ATTEMPTS
                if not retry:
                    with self._cond:
                        self._failed = True
                        self._pending = []
                    _warn("could not send the flow run's logs (%s); later lines are not recorded" % exc)
                    return
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY)

    def _loop(self):
        while True:
            with self._cond:
                if not self._closed and len(self._pending) < BATCH_SIZE:
                    self._cond.wait(FLUSH_INTERVAL)
                batch = self._take()
                done = self._closed and not self._pending and not batch
            if batch and not self._failed:
                self._send(batch)
            if done:
                return

    def close(self):
        """Send everything queued and stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()


class _StdoutTee:
    """Wraps ``sys.stdout``: writes go through unchanged and each complete
    line is also sent to the run's logs as ``stdout`` at INFO."""

    def __init__(self, stream, shipper):
        self._stream = stream
        self._shipper = shipper
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text):
        n = self._stream.write(text)
        if isinstance(text, str) and text:
            with self._lock:
                data = self._partial + text
                lines = data.split("\n")
                self._partial = lines.pop()
            for line in lines:
                self._shipper.add(LEVEL_INFO, "stdout", line.rstrip("\r"))
        return n

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        self._stream.flush()

    def finish(self):
        """Send a trailing line that has no newline yet."""
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self._shipper.add(LEVEL_INFO, "stdout", rest.rstrip("\r"))

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _ShippingHandler(logging.Handler):
    """Sends records of the run and engine loggers to the run's logs."""

    def __init__(self, shipper):
        super().__init__(logging.DEBUG)
        self._shipper = shipper

    def emit(self, record):
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            when = _record_time(record)
            self._shipper.add(record.levelno, record.name, message, when)
        except Exception:
            self.handleError(record)


def _record_time(record):
    import datetime

    return datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)


def _engine_logger():
    # Same console format as get_run_logger(); created on demand.
    from orion.loggers import _console_logger

    return _console_logger(_ENGINE_LOGGER)


# ---------------------------------------------------------------------------
# Connecting


def _connect():
    """Return ``(client, embedded_server_or_None)``; raise ``_Untracked``."""
    url = api_url_from_env()
    client = None
    if url:
        try:
            client = Client(url)
        except ValueError as exc:
            raise _Untracked(str(exc)) from None
    else:
        client = Client(DEFAULT_API_URL)
    if client.ping():
        return client, None
    from orion.embedded import EmbeddedServer, EmbeddedServerError

    server = EmbeddedServer()
    try:
        embedded_url = server.start()
    except EmbeddedServerError as exc:
        raise _Untracked("no Orion API at %s and %s" % (client.api_url, exc)) from None
    return Client(embedded_url), server


class _Untracked(Exception):
    """Tracking is not possible; the flow runs anyway."""


# ---------------------------------------------------------------------------
# One tracked run


class _TrackedRun:
    def __init__(self, flow, parameters):
        self.flow = flow
        self.parameters = parameters
        self.client = None
        self.server = None
        self.run = None
        self.shipper = None
        self.tee = None
        self.handler = None
        self.previous_stdout = None

    def begin(self):
        """Create the run and start capturing; False (after a warning) when untracked."""
        try:
            self.client, self.server = _connect()
            self.run = self.client.create_flow_run(self.flow.name, json_parameters(self.parameters))
        except (_Untracked, APIError) as exc:
            _warn("flow run not tracked: %s" % exc)
            self._stop_server()
            return False
        except Exception as exc:  # tracking must never break the flow
            _warn("flow run not tracked: %s: %s" % (type(exc).__name__, exc))
            self._stop_server()
            return False
        self.shipper = _LogShipper(self.client, self.run["id"])
        self.handler = _ShippingHandler(self.shipper)
        for name in (_RUN_LOGGER, _ENGINE_LOGGER):
            logging.getLogger(name).addHandler(self.handler)
        if sys.stdout is not None:
            self.previous_stdout = sys.stdout
            self.tee = _StdoutTee(sys.stdout, self.shipper)
            sys.stdout = self.tee
        _engine_logger().info("Created flow run %r for flow %r", self.run.get("name", ""), self.flow.name)
        return True

    def end(self, exc):
        """Record the final state; never raises."""
        try:
            self._end(exc)
        except Exception as err:
            _warn("flow run tracking failed: %s: %s" % (type(err).__name__, err))
        finally:
            self._stop_server()

    def _end(self, exc):
        from orion.runtime.scripts import exception_summary, format_user_traceback

        if exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)):
            state, message, label = "STATE_TYPE_COMPLETED", "Flow run completed.", "Completed()"
        else:
            state, message = "STATE_TYPE_FAILED", exception_summary(exc)
            label = "Failed(%r)" % message
            try:
                tb = format_user_traceback(exc).rstrip("\n")
            except Exception:
                tb = message
            self.shipper.add(LEVEL_ERROR, _RUN_LOGGER, "Encountered exception during execution:\n" + tb)
        if self.tee is not None:
            self.tee.finish()
            if sys.stdout is self.tee:
                sys.stdout = self.previous_stdout
        _engine_logger().info("Flow run %r - Finished in state %s", self.run.get("name", ""), label)
        for name in (_RUN_LOGGER, _ENGINE_LOGGER):
            logging.getLogger(name).removeHandler(self.handler)
        # Logs first: a follower of the run's logs stops at the final state.
        self.shipper.close()
        try:
            self.client.set_state(self.run["id"], state, message)
        except APIError as err:
            _warn("could not record the flow run's final state: %s" % err)

    def _stop_server(self):
        server, self.server = self.server, None
        if server is not None:
            try:
                server.stop()
            except Exception as err:
                _warn("could not stop the embedded Orion server: %s" % err)


def _claim():
    """Reserve the process's top-level run; False when one is active (nested call)."""
    global _active
    with _lock:
        if _active:
            return False
        _active += 1
        return True


def _release():
    global _active
    with _lock:
        _active -= 1


def call_flow(flow, args, kwargs):
    """The call hook: run ``flow`` with tracking when it applies."""
    if not tracking_enabled() or _runtime_owns_process():
        return flow.fn(*args, **kwargs)
    try:
        parameters = call_parameters(flow.fn, args, kwargs)
    except TypeError:
        return flow.fn(*args, **kwargs)  # raises the same TypeError, untracked
    if inspect.iscoroutinefunction(flow.fn):
        return _call_async(flow, args, kwargs, parameters)
    if not _claim():
        return flow.fn(*args, **kwargs)
    try:
        tracked = _TrackedRun(flow, parameters)
        if not tracked.begin():
            return flow.fn(*args, **kwargs)
        try:
            result = flow.fn(*args, **kwargs)
        except BaseException as exc:
            tracked.end(exc)
            raise
        tracked.end(None)
        return result
    finally:
        _release()


async def _call_async(flow, args, kwargs, parameters):
    import asyncio

    if not _claim():
        return await flow.fn(*args, **kwargs)
    try:
        tracked = _TrackedRun(flow, parameters)
        # Connecting may start a server: keep the event loop free meanwhile.
        began = await asyncio.get_running_loop().run_in_executor(None, tracked.begin)
        if not began:
            return await flow.fn(*args, **kwargs)
        try:
            result = await flow.fn(*args, **kwargs)
        except BaseException as exc:
            await asyncio.get_running_loop().run_in_executor(None, tracked.end, exc)
            raise
        await asyncio.get_running_loop().run_in_executor(None, tracked.end, None)
        return result
    finally:
        _release()


def install():
    """Install :func:`call_flow` as the flow call hook (idempotent)."""
    from orion import flows

    if flows._call_hook is not call_flow:
        flows.set_call_hook(call_flow)
