"""Specs written against Orion's own import path."""
from datetime import datetime, timedelta

from orion import DeploymentSpec, IntervalSchedule, SubprocessFlowRunner, flow


@flow(name="etl", version="1.2", description="Moves data.", retries=2, retry_delay_seconds=5)
def etl_flow(
    source: str,
    limit: int = 10,
    ratio: float = 0.5,
    dry_run: bool = False,
    columns: list = ["a", "b"],
    options: dict = None,
    started=datetime(2020, 1, 1),
    **extra,
):
    """Docstring that is not the description."""
    return {"source": source, "limit": limit}


@flow
def plain_flow(x, *args, y: "int" = 3, **kwargs):
    """Plain flow docstring."""
    return x


DeploymentSpec(
    flow=etl_flow,
    name="etl-hourly",
    parameters={"source": "s3://bucket", "when": datetime(2022, 3, 15, 12, 0), "wait": timedelta(minutes=1)},
    schedule=IntervalSchedule(interval=timedelta(hours=1)),
    tags=["etl", "hourly"],
    flow_runner=SubprocessFlowRunner(env={"A": "1", "N": 2}),
    work_queue_name="etl-queue",
)

DeploymentSpec(
    flow=plain_flow,
    name="plain",
    push_to_server=False,
    description="Spec description wins.",
    retries=1,
)
