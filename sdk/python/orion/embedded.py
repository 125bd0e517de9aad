"""A short-lived Orion server for tracking runs when no server is reachable.

:class:`EmbeddedServer` runs ``<orion> server start --host 127.0.0.1 --port 0``
with the caller's environment (so the store is ``$ORION_HOME/orion.db``),
reads the ``Orion server listening on http://...`` line from its stdout to
learn the URL, and stops it with SIGTERM when the flow ends.

The ``orion`` binary is found through ``$ORION_BINARY``, else the path that
``orion sdk path`` / ``orion sdk install`` recorded in the runtime folder
(:data:`BINARY_FILE`), else ``orion`` on ``PATH``.
"""

import collections
import os
import shutil
import signal
import subprocess
import sys
import threading

__all__ = ["BINARY_FILE", "EmbeddedServer", "EmbeddedServerError", "find_binary"]

# Written by the Go side (python.RecordBinary) next to the orion/ package.
BINARY_FILE = "orion-binary"

READY_PREFIX = "Orion server listening on "
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0

_RUNTIME_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class EmbeddedServerError(Exception):
    """The embedded server could not be started."""


def _executable(path):
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def find_binary():
    """Path of the ``orion`` binary, or ``None`` when none is known."""
    env = os.environ.get("ORION_BINARY", "").strip()
    if env:
        return env  # used as given; a wrong path surfaces as a start error
    try:
        with open(os.path.join(_RUNTIME_ROOT, BINARY_FILE), "r", encoding="utf-8") as f:
            recorded = f.read().strip()
    except OSError:
        recorded = ""
    if _executable(recorded):
        return recorded
    return shutil.which("orion")


class EmbeddedServer:
    """One ``orion server start`` child process; use :meth:`start` then :meth:`stop`."""

    def __init__(self, binary=None):
        self.binary = binary or find_binary()
        self.url = None
        self._proc = None
        self._stderr = collections.deque(maxlen=20)
        self._threads = []

    def start(self, timeout=START_TIMEOUT):
        """Start the server and return its URL; raise :class:`EmbeddedServerError`."""
        if not self.binary:
            raise EmbeddedServerError(
                "no orion binary found: set ORION_BINARY, run `orion sdk path` once, or put orion on PATH"
            )
        argv = [self.binary, "server", "start", "--host", "127.0.0.1", "--port", "0", "--log-level", "warn"]
        kwargs = {}
        if os.name == "posix":
            # Its own process group: a Ctrl-C meant for the flow must not kill
            # the server before the run's final state is recorded.
            kwargs["start_new_session"] = True
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                **kwargs,
            )
        except OSError as exc:
            raise EmbeddedServerError("cannot start %s: %s" % (self.binary, exc)) from None

        ready = threading.Event()
        found = []

        def read_stdout():
            for raw in self._proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if not found and line.startswith(READY_PREFIX):
                    found.append(line[len(READY_PREFIX):].split()[0])
                    ready.set()
            ready.set()  # EOF: the server exited

        def read_stderr():
            for raw in self._proc.stderr:
                line = raw.decode("utf-8", "replace").strip()
                if line:
                    self._stderr.append(line)

        for target in (read_stdout, read_stderr):
            t = threading.Thread(target=target, name="orion-embedded-server", daemon=True)
            t.start()
            self._threads.append(t)

        if not ready.wait(timeout):
            self.stop()
            raise EmbeddedServerError("the embedded Orion server did not start within %.0fs" % timeout)
        if not found:
            code = self._proc.wait()
            for t in self._threads:
                t.join(5)
            reason = self._stderr[-1] if self._stderr else "no output"
            self._proc = None
            raise EmbeddedServerError("the embedded Orion server exited with code %s: %s" % (code, reason))
        self.url = found[0]
        return self.url

    def stop(self, timeout=STOP_TIMEOUT):
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``) and wait for it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                if os.name == "posix":
                    proc.send_signal(signal.SIGTERM)
                else:
                    proc.terminate()
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            except OSError:
                pass
        for t in self._threads:
            t.join(5)
        for stream in (proc.stdout, proc.stderr):
            try:
                stream.close()
            except Exception:
                pass

    def last_error(self):
        """The server's last stderr line, or ``""``."""
        return self._stderr[-1] if self._stderr else ""


if __name__ == "__main__":  # manual check: python3 -m orion.embedded
    server = EmbeddedServer()
    print(server.start())
    server.stop()
    sys.exit(0)
