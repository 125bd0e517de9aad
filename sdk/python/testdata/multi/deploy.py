from prefect.deployments import DeploymentSpec

DeploymentSpec(name="ambiguous", flow_location="flows.py")
DeploymentSpec(name="picked", flow_location="flows.py", flow_name="beta", parameters={"n": 3})
DeploymentSpec(name="unknown-flow", flow_location="flows.py", flow_name="gamma")
DeploymentSpec(name="no-flows", flow_location="empty.py")
DeploymentSpec(name="missing-file", flow_location="missing.py")
DeploymentSpec(name="broken", flow_location="broken.py")
DeploymentSpec(name="bad-params", flow_location="flows.py", flow_name="beta", parameters={"n": 1, "m": 2, "k": 3})
