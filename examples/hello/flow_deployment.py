# The deployment spec in its own file, pointing at the flow by location
# (the second pattern of the deployments guide).
from prefect.deployments import DeploymentSpec

DeploymentSpec(
    flow_location="flow.py",
    name="hello-world-weekly",
    parameters={"name": "Arthur"},
    tags=["example"],
)
