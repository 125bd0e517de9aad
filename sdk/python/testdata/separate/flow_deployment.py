from prefect.deployments import DeploymentSpec

# Relative: resolved against this file's directory, not the working directory.
DeploymentSpec(
    flow_location="flow.py",
    name="flow-deployment",
)
