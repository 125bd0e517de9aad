"""Flows for the run entry point tests."""
import asyncio

from prefect import flow, get_run_logger, task
from prefect.deployments import DeploymentSpec
from prefect.orion.schemas.schedules import CronSchedule


@task
def greet(name):
    return f"Hello {name}!"


@flow(name="hello")
def hello(name="world"):
    message = greet(name)
    print(message)
    get_run_logger().info("logged %s", name)
    return {"greeting": message}


@flow(name="fails")
def fails(x: int = 1):
    def inner():
        raise ValueError("boom")

    inner()


@flow(name="async-hello")
async def async_hello(name: str):
    await asyncio.sleep(0)
    print(f"Async hello {name}!")
    return name.upper()


@flow(name="needs-arg")
def needs_arg(required_value):
    return required_value


@flow(name="big-result")
def big_result():
    return "x" * 5000


# These specs are invalid (flow_name mismatch, bad cron, unknown field) and
# would fail `deployment create`; in a flow run they must be harmless no-ops.
DeploymentSpec(flow=hello, flow_name="not-hello", name="inert", schedule=CronSchedule("nonsense"), bogus=1)

if __name__ == "__main__":
    print("MAIN BLOCK RAN")
