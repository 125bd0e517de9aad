from prefect import flow
from prefect.deployments import DeploymentSpec


@flow
def hello_world(name="world"):
    print(f"Hello {name}!")


DeploymentSpec(flow=hello_world, name="dup", tags=["first"])
DeploymentSpec(flow=hello_world, name="other")
DeploymentSpec(flow=hello_world, name="dup", tags=["second"])
