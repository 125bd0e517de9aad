# A Python flow that runs in a Docker container. Nothing is pushed to a
# registry: the agent copies this script (pushed to the server) and Orion's
# Python runtime into the container; the image only needs a Python 3.9+.
from prefect import flow
from prefect.deployments import DeploymentSpec
from prefect.flow_runners import DockerFlowRunner


@flow
def hello_docker(name="world"):
    import platform

    print(f"Hello {name} from a container running Python {platform.python_version()}!")


DeploymentSpec(
    flow=hello_docker,
    name="hello-docker",
    flow_runner=DockerFlowRunner(
        image="python:3.11-slim",
        env={"GREETING_SOURCE": "docker"},
        labels={"team": "data"},
        resources={"requests": {"memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
    ),
)
