from prefect import flow
from prefect.deployments import DeploymentSpec
from prefect.flow_runners import DockerFlowRunner


@flow
def docker_raises():
    print("about to fail")
    raise ValueError("bad input inside the container")


DeploymentSpec(flow=docker_raises, name="raises", flow_runner=DockerFlowRunner(image="python:3.11-slim"))
