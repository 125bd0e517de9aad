"""``prefect.flow_runners`` compatibility module (see :mod:`orion.flow_runners`)."""

from orion.flow_runners import (
    DockerFlowRunner,
    FlowRunner,
    ImagePullPolicy,
    KubernetesFlowRunner,
    KubernetesImagePullPolicy,
    KubernetesRestartPolicy,
    SubprocessFlowRunner,
    UniversalFlowRunner,
)

__all__ = [
    "DockerFlowRunner",
    "FlowRunner",
    "ImagePullPolicy",
    "KubernetesFlowRunner",
    "KubernetesImagePullPolicy",
    "KubernetesRestartPolicy",
    "SubprocessFlowRunner",
    "UniversalFlowRunner",
]
