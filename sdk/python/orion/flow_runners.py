"""Flow runners: where an agent runs a deployment's flow runs.

Field names follow Prefect 2.0b1. Each runner serializes with
:meth:`FlowRunner.to_dict` to::

    {"type": "subprocess" | "docker" | "kubernetes" | "universal",
     "env": {"NAME": "value", ...},
     "config": {<every other field whose value is not None>}}

Unknown keyword arguments are an error, as in Prefect (``extra = "forbid"``).
Inside a flow-run process (see :mod:`orion._context`) runners skip
validation, so a runner declared next to a flow can never break its runs.
"""

import enum
import os

from orion import _context

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


class ImagePullPolicy(str, enum.Enum):
    """Docker image pull policies."""

    IF_NOT_PRESENT = "IF_NOT_PRESENT"
    ALWAYS = "ALWAYS"
    NEVER = "NEVER"


class KubernetesImagePullPolicy(str, enum.Enum):
    """Kubernetes image pull policies."""

    IF_NOT_PRESENT = "IfNotPresent"
    ALWAYS = "Always"
    NEVER = "Never"


class KubernetesRestartPolicy(str, enum.Enum):
    """Kubernetes restart policies (deprecated in Prefect 2.0b4)."""

    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class FlowRunner:
    """Base class: every runner has ``env``, extra environment variables for
    the flow-run process."""

    typename = None
    _config_fields = ()

    def __init__(self, *, env=None, **unknown):
        if unknown:
            valid = ", ".join(("env",) + tuple(self._config_fields))
            raise TypeError(
                "%s got unexpected field(s): %s. Valid fields: %s"
                % (type(self).__name__, ", ".join(repr(k) for k in sorted(unknown)), valid)
            )
        self.env = env if _context.is_inert() else _str_dict("env", env)

    def _validating(self):
        return not _context.is_inert()

    def to_dict(self):
        """Serialize as ``{"type", "env", "config"}`` (see the module docs)."""
        config = {}
        for name in self._config_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, (list, tuple)):
                value = list(value)
            config[name] = value
        return {"type": self.typename, "env": dict(self.env or {}), "config": config}

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(type(self).__name__)

    def __repr__(self):
        fields = ("env",) + tuple(self._config_fields)
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % (f, getattr(self, f)) for f in fields))


class UniversalFlowRunner(FlowRunner):
    """Let the agent choose; Orion agents run it as a subprocess."""

    typename = "universal"

    def __init__(self, *, env=None, **unknown):
        super().__init__(env=env, **unknown)


class SubprocessFlowRunner(FlowRunner):
    """Run the flow in a local subprocess of the agent.

    Args:
        env: extra environment variables.
        stream_output: stream the process output to the agent's output.
        virtualenv: path of a virtualenv whose Python runs the flow.
        condaenv: conda environment name (or path when it starts with / or ~).
    """

    typename = "subprocess"
    _config_fields = ("stream_output", "virtualenv", "condaenv")

    def __init__(self, *, env=None, stream_output=True, virtualenv=None, condaenv=None, **unknown):
        super().__init__(env=env, **unknown)
        self.stream_output = stream_output
        self.virtualenv = virtualenv
        self.condaenv = condaenv
        if not self._validating():
            return
        self.stream_output = _bool("stream_output", stream_output)
        self.virtualenv = _path("virtualenv", virtualenv)
        self.condaenv = _path("condaenv", condaenv)
        if self.virtualenv is not None and self.condaenv is not None:
            raise ValueError("Invalid flow runner: give `condaenv` or `virtualenv`, not both.")


class DockerFlowRunner(FlowRunner):
    """Run the flow in a Docker container.

    Args:
        image: image to run (the agent picks a default when None).
        env: extra environment variables.
        image_pull_policy: IF_NOT_PRESENT, ALWAYS or NEVER.
        networks: networks to attach the container to.
        labels: container labels.
        volumes: ``"host_path:container_path"`` bind mounts.
        auto_remove: remove the container once its exit and output are
            collected (Orion's default: True; False keeps it).
        stream_output: ship the container's output as the run's logs.
        network_mode: Orion: the engine's network mode ("host", "bridge", ...).
        user: Orion: run the container as this user ("uid[:gid]").
        resources: Orion: ``{"requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"}}``.
    """

    typename = "docker"
    _config_fields = (
        "image",
        "image_pull_policy",
        "networks",
        "labels",
        "volumes",
        "auto_remove",
        "stream_output",
        "network_mode",
        "user",
        "resources",
    )

    def __init__(
        self,
        *,
        image=None,
        env=None,
        image_pull_policy=None,
        networks=None,
        labels=None,
        volumes=None,
        auto_remove=None,
        stream_output=True,
        network_mode=None,
        user=None,
        resources=None,
        **unknown,
    ):
        super().__init__(env=env, **unknown)
        self.image = image
        self.image_pull_policy = image_pull_policy
        self.networks = networks if networks is not None else []
        self.labels = labels if labels is not None else {}
        self.volumes = volumes if volumes is not None else []
        self.auto_remove = auto_remove
        self.stream_output = stream_output
        self.network_mode = network_mode
        self.user = user
        self.resources = resources
        if not self._validating():
            return
        self.network_mode = _opt_str("network_mode", network_mode)
        self.user = _opt_str("user", user)
        self.resources = _resources(resources)
        self.image = _opt_str("image", image)
        self.image_pull_policy = _choice("image_pull_policy", image_pull_policy, ImagePullPolicy)
        self.networks = _str_list("networks", self.networks)
        self.labels = _str_dict("labels", self.labels)
        self.volumes = _str_list("volumes", self.volumes)
        for volume in self.volumes:
            if ":" not in volume:
                raise ValueError(
                    "Invalid `volumes`: %r must be of the form 'host_path:container_path'" % (volume,)
                )
        self.auto_remove = None if auto_remove is None else _bool("auto_remove", auto_remove)
        self.stream_output = _bool("stream_output", stream_output)


class KubernetesFlowRunner(FlowRunner):
    """Run the flow as a Kubernetes Job.

    Args:
        image: image to run (the agent picks a default when None).
        namespace: namespace of the Job (default "default").
        labels: Job labels.
        image_pull_policy: IfNotPresent, Always or Never.
        restart_policy: Never or OnFailure (deprecated by Prefect 2.0b4).
        service_account_name: service account of the Job's pod.
        env: extra environment variables.
        stream_output: ship the pod's output as the run's logs.
        resources: Orion: requests and limits, as for DockerFlowRunner.
        ttl_seconds_after_finished: Orion: the Job's TTL (default 3600).
        pod_start_timeout_seconds: Orion: how long the pod may take to run.
        api_url: Orion: the server URL the pod uses, when not the agent's.
        auto_remove: Orion: delete the finished Job once collected (default True).
    """

    typename = "kubernetes"
    _config_fields = (
        "image",
        "namespace",
        "labels",
        "image_pull_policy",
        "restart_policy",
        "service_account_name",
        "stream_output",
        "resources",
        "ttl_seconds_after_finished",
        "pod_start_timeout_seconds",
        "api_url",
        "auto_remove",
    )

    def __init__(
        self,
        *,
        image=None,
        namespace="default",
        labels=None,
        image_pull_policy=None,
        restart_policy=None,
        service_account_name=None,
        env=None,
        stream_output=True,
        resources=None,
        ttl_seconds_after_finished=None,
        pod_start_timeout_seconds=None,
        api_url=None,
        auto_remove=None,
        **unknown,
    ):
        super().__init__(env=env, **unknown)
        self.resources = resources
        self.ttl_seconds_after_finished = ttl_seconds_after_finished
        self.pod_start_timeout_seconds = pod_start_timeout_seconds
        self.api_url = api_url
        self.auto_remove = auto_remove
        self.image = image
        self.namespace = namespace
        self.labels = labels if labels is not None else {}
        self.image_pull_policy = image_pull_policy
        self.restart_policy = restart_policy
        self.service_account_name = service_account_name
        self.stream_output = stream_output
        if not self._validating():
            return
        self.image = _opt_str("image", image)
        self.namespace = _opt_str("namespace", namespace) or "default"
        self.labels = _str_dict("labels", self.labels)
        self.image_pull_policy = _choice("image_pull_policy", image_pull_policy, KubernetesImagePullPolicy)
        self.restart_policy = _choice("restart_policy", restart_policy, KubernetesRestartPolicy)
        self.service_account_name = _opt_str("service_account_name", service_account_name)
        self.stream_output = _bool("stream_output", stream_output)
        self.resources = _resources(resources)
        self.ttl_seconds_after_finished = _opt_int("ttl_seconds_after_finished", ttl_seconds_after_finished, 0)
        self.pod_start_timeout_seconds = _opt_int("pod_start_timeout_seconds", pod_start_timeout_seconds, 1)
        self.api_url = _opt_str("api_url", api_url)
        self.auto_remove = None if auto_remove is None else _bool("auto_remove", auto_remove)


# ---------------------------------------------------------------------------
# Validation helpers


def _bool(field, value):
    if not isinstance(value, bool):
        raise ValueError("Invalid `%s`: expected True or False, got %r" % (field, value))
    return value


def _opt_str(field, value):
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Invalid `%s`: expected a non-empty string, got %r" % (field, value))
    return value.strip()


def _path(field, value):
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return _opt_str(field, value)


def _str_list(field, value):
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError("Invalid `%s`: expected a list of strings, got %r" % (field, value))
    for item in value:
        if not isinstance(item, str):
            raise ValueError("Invalid `%s`: expected a list of strings, found %r" % (field, item))
    return list(value)


def _str_dict(field, value):
    """Validate a mapping of strings; numbers are converted to strings."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("Invalid `%s`: expected a dict of strings, got %r" % (field, value))
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError("Invalid `%s`: keys must be non-empty strings, got %r" % (field, key))
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValueError("Invalid `%s`: value of %r must be a string, got %r" % (field, key, item))
        out[key] = item if isinstance(item, str) else str(item)
    return out


def _opt_int(field, value, minimum):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError("Invalid `%s`: expected a whole number of at least %d, got %r" % (field, minimum, value))
    return value


def _resources(value):
    """Check the shape ``{"requests"|"limits": {"cpu"|"memory": str}}``;
    the quantities themselves are checked when the deployment is created."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("Invalid `resources`: expected a dict with 'requests' and/or 'limits', got %r" % (value,))
    out = {}
    for side, amounts in value.items():
        if side not in ("requests", "limits"):
            raise ValueError("Invalid `resources`: unknown key %r; use 'requests' and/or 'limits'" % (side,))
        if not isinstance(amounts, dict):
            raise ValueError("Invalid `resources.%s`: expected a dict with 'cpu' and/or 'memory', got %r" % (side, amounts))
        out[side] = {}
        for name, amount in amounts.items():
            if name not in ("cpu", "memory"):
                raise ValueError("Invalid `resources.%s`: unknown resource %r; use 'cpu' and/or 'memory'" % (side, name))
            if isinstance(amount, bool) or not isinstance(amount, (str, int, float)):
                raise ValueError("Invalid `resources.%s.%s`: expected a quantity such as '500m' or '1Gi', got %r" % (side, name, amount))
            out[side][name] = amount if isinstance(amount, str) else str(amount)
    return out


def _choice(field, value, enum_type):
    """Normalize ``value`` to one of ``enum_type``'s values (case-insensitive)."""
    if value is None:
        return None
    if isinstance(value, enum_type):
        return value.value
    if isinstance(value, str):
        wanted = value.replace("-", "_").replace(" ", "").lower()
        for member in enum_type:
            if wanted in (member.value.lower(), member.name.lower(), member.name.replace("_", "").lower()):
                return member.value
    raise ValueError(
        "Invalid `%s`: expected one of %s, got %r"
        % (field, ", ".join(m.value for m in enum_type), value)
    )
