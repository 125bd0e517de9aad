"""Tasks: a pass-through ``@task`` decorator for Prefect compatibility.

Orion tracks flow runs, not task runs. ``@task`` therefore just wraps the
function: calling the task calls the function. ``.submit()`` (later Prefect
style) runs it immediately and returns a completed future, and ``.fn`` gives
the original function, so common Prefect code runs unchanged.
"""

import functools

__all__ = ["Task", "TaskFuture", "task"]


class TaskFuture:
    """An already-resolved future returned by :meth:`Task.submit`."""

    def __init__(self, value=None, exception=None):
        self._value = value
        self._exception = exception

    def result(self, timeout=None, raise_on_failure=True):
        """Return the task's value, or raise its exception."""
        if self._exception is not None:
            if raise_on_failure:
                raise self._exception
            return self._exception
        return self._value

    def wait(self, timeout=None):
        """Return self; the work has already finished."""
        return self

    def __repr__(self):
        return "TaskFuture(%s)" % ("failed" if self._exception is not None else "completed")


class Task:
    """A function marked with ``@task``. Calling it calls the function."""

    def __init__(self, fn, name=None, **options):
        if not callable(fn):
            raise TypeError("@task must decorate a function, got %r" % (fn,))
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.options = dict(options)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def submit(self, *args, **kwargs):
        """Run the task now and return a resolved :class:`TaskFuture`."""
        try:
            return TaskFuture(value=self.fn(*args, **kwargs))
        except Exception as exc:  # surfaced by .result()
            return TaskFuture(exception=exc)

    def map(self, *iterables, **kwargs):
        """Call the task once per element of the zipped iterables."""
        return [self.submit(*args, **kwargs) for args in zip(*iterables)]

    def __repr__(self):
        return "Task(name=%r)" % (self.name,)


def task(__fn=None, *, name=None, **options):
    """Mark a function as a task. Usable bare or with Prefect's options,
    which are accepted and ignored."""
    if __fn is not None:
        return Task(__fn, name=name, **options)
    return lambda fn: Task(fn, name=name, **options)
