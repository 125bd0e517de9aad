"""Orion's pure-Python runtime.

This package ships inside the ``orion`` Go binary and is unpacked next to it on
first use. It has no third-party dependencies and supports Python 3.9+.

Public API::

    from orion import flow, DeploymentSpec, IntervalSchedule

    @flow
    def hello_world(name="world"):
        print(f"Hello {name}!")

    DeploymentSpec(flow=hello_world, name="hello-world-daily")

Files written for Prefect 2.0 "Orion" work unchanged through the ``prefect``
compatibility package that ships alongside this one.

The two entry points used by the Go side live in :mod:`orion.runtime.load`
(spec and flow discovery) and :mod:`orion.runtime.run` (executing a flow run).
"""

# Keep this check first and written in syntax that old interpreters can parse,
# so an unsupported Python fails with a readable message instead of a
# SyntaxError somewhere deep in the runtime.
import sys as _sys

if _sys.version_info < (3, 9):
    raise ImportError(
        "Orion's Python runtime requires Python 3.9 or newer; this is Python %s. "
        "Install a newer Python or point ORION_PYTHON at one."
        % _sys.version.split()[0]
    )

# The generated gRPC client (gen/python) also lives under the `orion` package
# (orion.v1, orion.agent.v1); extending the path lets both be imported in one
# process when both folders are on sys.path.
import pkgutil as _pkgutil  # noqa: E402

__path__ = _pkgutil.extend_path(__path__, __name__)

from orion.deployments import DeploymentSpec  # noqa: E402
from orion.flow_runners import (  # noqa: E402
    DockerFlowRunner,
    FlowRunner,
    KubernetesFlowRunner,
    SubprocessFlowRunner,
    UniversalFlowRunner,
)
from orion.flows import Flow, flow  # noqa: E402
from orion.loggers import get_run_logger  # noqa: E402
from orion.schedules import CronSchedule, IntervalSchedule, RRuleSchedule  # noqa: E402
from orion.tasks import Task, task  # noqa: E402

__all__ = [
    "CronSchedule",
    "DeploymentSpec",
    "DockerFlowRunner",
    "Flow",
    "FlowRunner",
    "IntervalSchedule",
    "KubernetesFlowRunner",
    "RRuleSchedule",
    "SubprocessFlowRunner",
    "Task",
    "UniversalFlowRunner",
    "flow",
    "get_run_logger",
    "task",
]
