"""``prefect.deployments`` compatibility module (see :mod:`orion.deployments`)."""

from orion.deployments import DeploymentSpec
from orion.runtime.scripts import load_flow_from_script

__all__ = ["DeploymentSpec", "load_flow_from_script"]
