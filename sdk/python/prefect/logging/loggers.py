"""``prefect.logging.loggers`` compatibility module (see :mod:`orion.loggers`)."""

from orion.loggers import get_run_logger

__all__ = ["get_run_logger"]
