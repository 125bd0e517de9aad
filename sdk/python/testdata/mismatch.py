from prefect import flow
from prefect.deployments import DeploymentSpec


@flow
def hello_world():
    pass


DeploymentSpec(flow=hello_world, flow_name="other", name="mismatched")
