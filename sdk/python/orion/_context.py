"""Process-wide runtime state shared by the SDK objects and the entry points.

Two switches exist:

* **collecting** -- set by ``orion.runtime.load`` while it executes a
  deployment script. Every :class:`~orion.deployments.DeploymentSpec` built in
  that window registers itself in the active registry.
* **inert** -- set by ``orion.runtime.run`` for the whole flow-run process and
  by the loader while it executes a ``flow_location`` script only to find its
  flows. ``DeploymentSpec``, schedules and flow runners built in that window
  skip validation and registration entirely, so deployment declarations that
  live next to a flow can never break a run of that flow.

Outside both windows (plain ``python my_flow.py``) objects validate themselves
but nothing is registered.

Plain module globals are used instead of ``contextvars`` on purpose: a user
script may build specs from helper threads, and those must still be seen.
"""

import contextlib
import threading

_lock = threading.RLock()
_registry = None  # dict: identity tuple -> DeploymentSpec, while collecting
_inert_depth = 0


@contextlib.contextmanager
def collecting():
    """Activate a fresh spec registry and yield it (an insertion-ordered dict)."""
    global _registry
    with _lock:
        previous, _registry = _registry, {}
        registry = _registry
    try:
        yield registry
    finally:
        with _lock:
            _registry = previous


@contextlib.contextmanager
def inert():
    """Make spec, schedule and flow-runner construction a no-op while active."""
    global _inert_depth
    with _lock:
        _inert_depth += 1
    try:
        yield
    finally:
        with _lock:
            _inert_depth -= 1


def enter_inert():
    """Enter inert mode for the rest of the process (used by the run entry)."""
    global _inert_depth
    with _lock:
        _inert_depth += 1


def is_inert():
    """True when objects must skip validation and registration."""
    return _inert_depth > 0


def register(identity, spec):
    """Record ``spec`` under ``identity`` if a loader is collecting.

    A later spec with the same identity replaces the earlier one and moves to
    the end, so the registry's order is the order of the final definitions.
    """
    with _lock:
        if _registry is None or _inert_depth > 0:
            return
        _registry.pop(identity, None)
        _registry[identity] = spec
