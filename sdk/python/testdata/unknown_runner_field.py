from prefect import flow
from prefect.deployments import DeploymentSpec
from prefect.flow_runners import SubprocessFlowRunner


@flow
def hello_world():
    pass


DeploymentSpec(flow=hello_world, name="bad-runner", flow_runner=SubprocessFlowRunner(cpu=2))
