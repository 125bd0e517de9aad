"""Deployment specifications, as in Prefect 2.0b1's ``prefect.deployments``.

A :class:`DeploymentSpec` describes how to deploy one flow. Specs need not be
assigned to anything: while ``orion deployment create FILE.py`` executes the
file, every spec constructed registers itself, and the loader collects them.
A later spec with the same ``(name, flow_name)`` replaces an earlier one.

Inference and validation follow Prefect:

* ``flow_location`` is inferred from the file that defines ``flow``; it is
  coerced to ``str`` and made absolute.
* ``flow_name`` is inferred from ``flow.name``; if both are given they must
  match.
* ``name`` is required, and so is one of ``flow`` / ``flow_location``.

One deliberate difference: a *relative* ``flow_location`` is resolved against
the directory of the file that constructs the spec, not against the current
working directory as Prefect did. ``DeploymentSpec(flow_location="flow.py")``
in ``project/flow_deployment.py`` therefore means ``project/flow.py`` wherever
``orion deployment create`` is run from. Specs built outside a file (a REPL,
``exec`` of a string) fall back to the working directory.

Inside a flow-run process (see :mod:`orion._context`) constructing a spec is a
harmless no-op: nothing is validated or registered.
"""

import os

from orion import _context
from orion._util import caller_location
from orion.flow_runners import FlowRunner
from orion.flows import Flow
from orion.schedules import Schedule

__all__ = ["DeploymentSpec"]

_FIELDS = (
    "name",
    "flow",
    "flow_name",
    "flow_location",
    "push_to_server",
    "parameters",
    "schedule",
    "tags",
    "flow_runner",
    "description",
    "work_queue_name",
    "retries",
    "retry_delay_seconds",
)


class DeploymentSpec:
    """Specification of a deployment: a flow plus how and when to run it.

    Args:
        name: name of the deployment (required); unique per flow.
        flow: the :class:`~orion.flows.Flow` to deploy.
        flow_name: name of the flow; needed only to pick one flow out of a
            ``flow_location`` script that defines several.
        flow_location: path of the script defining the flow; inferred from
            ``flow``. Relative paths are resolved against the directory of
            the file constructing the spec.
        push_to_server: store the flow script's text on the server (default)
            so any agent can run it; False stores only the path.
        parameters: default parameters for runs of this deployment.
        schedule: an Interval, Cron or RRule schedule.
        tags: list of tags.
        flow_runner: a flow runner (Subprocess, Docker, Kubernetes, Universal).
        description: description; defaults to the flow's description.
        work_queue_name: work queue whose agents run this deployment.
        retries, retry_delay_seconds: retry policy of runs; default to the
            flow's.
    """

    def __init__(
        self,
        name=None,
        flow=None,
        flow_name=None,
        flow_location=None,
        push_to_server=True,
        parameters=None,
        schedule=None,
        tags=None,
        flow_runner=None,
        description=None,
        work_queue_name=None,
        retries=None,
        retry_delay_seconds=None,
        **unknown,
    ):
        self.name = name
        self.flow = flow
        self.flow_name = flow_name
        self.flow_location = flow_location
        self.push_to_server = push_to_server
        self.parameters = parameters
        self.schedule = schedule
        self.tags = tags
        self.flow_runner = flow_runner
        self.description = description
        self.work_queue_name = work_queue_name
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self.source_file, self.source_line = None, None
        if _context.is_inert():
            return

        if unknown:
            raise TypeError(
                "DeploymentSpec got unexpected field(s): %s. Valid fields: %s"
                % (", ".join(repr(k) for k in sorted(unknown)), ", ".join(_FIELDS))
            )
        self.source_file, self.source_line = caller_location()
        self._validate()
        _context.register(self.identity, self)

    # -- validation ---------------------------------------------------------

    def _validate(self):
        if self.name is None:
            raise ValueError("`name` is required for a DeploymentSpec.")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("Invalid `name`: expected a non-empty string, got %r" % (self.name,))

        if self.flow is not None and not isinstance(self.flow, Flow):
            raise TypeError(
                "Invalid `flow`: expected a flow (a function decorated with @flow), got %r" % (self.flow,)
            )
        if self.flow_name is not None and (not isinstance(self.flow_name, str) or not self.flow_name.strip()):
            raise ValueError("Invalid `flow_name`: expected a non-empty string, got %r" % (self.flow_name,))

        if self.flow_location is not None:
            self.flow_location = _absolute_location(self.flow_location, self.source_file)
        elif self.flow is not None and self.flow.file:
            self.flow_location = self.flow.file

        if self.flow is not None:
            if self.flow_name is None:
                self.flow_name = self.flow.name
            elif self.flow_name != self.flow.name:
                raise ValueError(
                    "`flow.name` and `flow_name` must match. Got %r and %r." % (self.flow.name, self.flow_name)
                )

        if self.flow is None and self.flow_location is None:
            raise ValueError("Either `flow` or `flow_location` must be provided.")

        if not isinstance(self.push_to_server, bool):
            raise ValueError("Invalid `push_to_server`: expected True or False, got %r" % (self.push_to_server,))

        if self.parameters is not None:
            if not isinstance(self.parameters, dict):
                raise ValueError("Invalid `parameters`: expected a dict, got %r" % (self.parameters,))
            for key in self.parameters:
                if not isinstance(key, str):
                    raise ValueError("Invalid `parameters`: names must be strings, got %r" % (key,))
            self.parameters = dict(self.parameters)

        if self.schedule is not None and not isinstance(self.schedule, Schedule):
            raise ValueError(
                "Invalid `schedule`: expected an IntervalSchedule, CronSchedule or RRuleSchedule, got %r"
                % (self.schedule,)
            )

        if self.tags is not None:
            if isinstance(self.tags, (str, bytes)) or not isinstance(self.tags, (list, tuple, set, frozenset)):
                raise ValueError("Invalid `tags`: expected a list of strings, got %r" % (self.tags,))
            for tag in self.tags:
                if not isinstance(tag, str):
                    raise ValueError("Invalid `tags`: expected a list of strings, found %r" % (tag,))
            self.tags = list(self.tags)

        if self.flow_runner is not None and not isinstance(self.flow_runner, FlowRunner):
            raise ValueError(
                "Invalid `flow_runner`: expected a SubprocessFlowRunner, DockerFlowRunner, "
                "KubernetesFlowRunner or UniversalFlowRunner, got %r" % (self.flow_runner,)
            )

        for field in ("description", "work_queue_name"):
            value = getattr(self, field)
            if value is not None and not isinstance(value, str):
                raise ValueError("Invalid `%s`: expected a string, got %r" % (field, value))
        if self.work_queue_name is not None and not self.work_queue_name.strip():
            raise ValueError("Invalid `work_queue_name`: expected a non-empty string")

        if self.retries is not None and (
            isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0
        ):
            raise ValueError("Invalid `retries`: expected an integer >= 0, got %r" % (self.retries,))
        delay = self.retry_delay_seconds
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0):
            raise ValueError("Invalid `retry_delay_seconds`: expected a number >= 0, got %r" % (delay,))

    # -- identity -----------------------------------------------------------

    @property
    def identity(self):
        """``(name, flow_name)``: specs with equal identity replace each other."""
        return (self.name, self.flow_name)

    def __hash__(self):
        return hash(self.identity)

    def __eq__(self, other):
        if not isinstance(other, DeploymentSpec):
            return NotImplemented
        return self.identity == other.identity

    def __repr__(self):
        return "DeploymentSpec(name=%r, flow_name=%r, flow_location=%r)" % (
            self.name,
            self.flow_name,
            self.flow_location,
        )

    # -- flow loading -------------------------------------------------------

    def load_flow(self):
        """Load ``self.flow`` from ``flow_location`` when it is not set (as in
        Prefect) and fill in ``flow_name``. Returns the flow."""
        if self.flow is None:
            from orion.runtime.scripts import load_flow_from_script

            self.flow = load_flow_from_script(self.flow_location, self.flow_name)
            if self.flow_name is None:
                self.flow_name = self.flow.name
        return self.flow


def _absolute_location(value, source_file):
    """Coerce ``value`` to an absolute path string (see the module docs)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    if not isinstance(value, str):
        value = str(value)
    if not value.strip():
        raise ValueError("Invalid `flow_location`: expected a path, got an empty string")
    value = os.path.expanduser(value)
    if not os.path.isabs(value) and source_file:
        value = os.path.join(os.path.dirname(source_file), value)
    return os.path.abspath(value)
