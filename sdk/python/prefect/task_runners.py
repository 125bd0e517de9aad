"""``prefect.task_runners`` compatibility module (see :mod:`orion.task_runners`)."""

from orion.task_runners import BaseTaskRunner, ConcurrentTaskRunner, DaskTaskRunner, SequentialTaskRunner

__all__ = ["BaseTaskRunner", "ConcurrentTaskRunner", "DaskTaskRunner", "SequentialTaskRunner"]
