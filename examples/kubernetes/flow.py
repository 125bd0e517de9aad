# A Python flow that runs as a Kubernetes Job. The agent (in the cluster,
# see `orion kubernetes manifest`) creates a Job per run; this script and
# Orion's Python runtime travel in a ConfigMap, so the image only needs a
# Python 3.9+.
from prefect import flow
from prefect.deployments import DeploymentSpec
from prefect.flow_runners import KubernetesFlowRunner


@flow
def hello_kubernetes(name="world"):
    import socket

    print(f"Hello {name} from pod {socket.gethostname()}!")


DeploymentSpec(
    flow=hello_kubernetes,
    name="hello-kubernetes",
    flow_runner=KubernetesFlowRunner(
        image="python:3.11-slim",
        namespace="default",
        labels={"team": "data"},
        image_pull_policy="IfNotPresent",
        service_account_name="default",
        resources={"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        env={"GREETING_SOURCE": "kubernetes"},
    ),
)
