"""``prefect.tasks`` compatibility module (see :mod:`orion.tasks`)."""

from orion.tasks import Task, task

__all__ = ["Task", "task"]
