"""Task-runner placeholders so Prefect's ``@flow(task_runner=...)`` works.

Orion runs tasks as plain function calls; these classes only carry settings.
"""

__all__ = ["BaseTaskRunner", "ConcurrentTaskRunner", "DaskTaskRunner", "SequentialTaskRunner"]


class BaseTaskRunner:
    """Accepts any settings and stores them; has no behaviour."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        return "%s()" % type(self).__name__


class SequentialTaskRunner(BaseTaskRunner):
    """Run tasks one after another (what Orion always does)."""


class ConcurrentTaskRunner(BaseTaskRunner):
    """Accepted for compatibility; tasks still run sequentially."""


class DaskTaskRunner(BaseTaskRunner):
    """Accepted for compatibility; tasks still run sequentially."""
