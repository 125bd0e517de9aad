"""Prefect 2.0 "Orion" compatibility package, provided by Orion.

Lets files written for Prefect run unchanged on Orion without Prefect
installed::

    from prefect import flow, task, get_run_logger
    from prefect.deployments import DeploymentSpec
    from prefect.orion.schemas.schedules import IntervalSchedule, CronSchedule, RRuleSchedule
    from prefect.flow_runners import SubprocessFlowRunner, DockerFlowRunner, KubernetesFlowRunner

Every name here is Orion's own object (``prefect.flow is orion.flow``), so
specs and flows made through either import path are the same things.
Because Orion's runtime directory comes first on ``PYTHONPATH``, this package
shadows a real Prefect installation inside Orion-run processes.
"""

from orion import DeploymentSpec, Flow, Task, flow, get_run_logger, task

__all__ = ["DeploymentSpec", "Flow", "Task", "flow", "get_run_logger", "task"]
__version__ = "2.0b1+orion"
