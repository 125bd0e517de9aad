"""Logging helpers: ``get_run_logger()`` as in Prefect."""

import logging
import sys

__all__ = ["get_run_logger"]

_LOGGER_NAME = "orion.flow_runs"
_FORMAT = "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s"


class _StderrHandler(logging.StreamHandler):
    """A handler that always writes to the *current* ``sys.stderr``.

    Looking the stream up at emit time keeps output correct when the runtime
    swaps streams (the loader points stdout at stderr while user code runs).
    """

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ assigns it; ignore
        pass


def get_run_logger(*args, **kwargs):
    """Return the stdlib logger for flow-run code; it writes INFO+ to stderr.

    Accepts and ignores Prefect's optional arguments (context, extra).
    """
    return _console_logger(_LOGGER_NAME)


def _console_logger(name):
    """The logger ``name`` writing INFO+ to stderr in the run logger's format."""
    logger = logging.getLogger(name)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
