from datetime import datetime, timedelta, timezone

from prefect import flow
from prefect.deployments import DeploymentSpec
from prefect.flow_runners import (
    DockerFlowRunner,
    KubernetesFlowRunner,
    SubprocessFlowRunner,
    UniversalFlowRunner,
)
from prefect.orion.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule


@flow
def hello_world(name="world"):
    print(f"Hello {name}!")


DeploymentSpec(
    flow=hello_world,
    name="interval",
    schedule=IntervalSchedule(
        interval=timedelta(minutes=90),
        anchor_date=datetime(2022, 1, 1, 9, 30, tzinfo=timezone.utc),
    ),
    flow_runner=SubprocessFlowRunner(env={"FOO": "bar"}, stream_output=True),
)
DeploymentSpec(
    flow=hello_world,
    name="interval-seconds-tz",
    schedule=IntervalSchedule(interval=3600, anchor_date=datetime(2022, 7, 1, 9, 0), timezone="America/New_York"),
    flow_runner=UniversalFlowRunner(env={"X": "y"}),
)
DeploymentSpec(
    flow=hello_world,
    name="cron",
    schedule=CronSchedule(cron="0 9 * * MON-FRI", timezone="Europe/Paris", day_or=False),
    flow_runner=DockerFlowRunner(
        image="python:3.11",
        image_pull_policy="always",
        networks=["net1"],
        volumes=["/data:/data"],
        labels={"team": "data"},
        resources={"limits": {"memory": "512Mi", "cpu": 1}},
    ),
)
DeploymentSpec(
    flow=hello_world,
    name="rrule",
    schedule=RRuleSchedule(rrule="DTSTART:20220101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE"),
    flow_runner=KubernetesFlowRunner(namespace="flows", image_pull_policy="IfNotPresent", service_account_name="runner"),
)
DeploymentSpec(flow=hello_world, name="keyword", schedule=CronSchedule("@daily"))
