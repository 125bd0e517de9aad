"""Assertions on the Python API, run directly (not through the loader) by
TestPythonAPI. Prints "API CHECKS OK" at the end."""
import io
import logging
import sys
from datetime import datetime, timedelta, timezone


def expect_error(exc_type, fragment, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc_type as exc:
        assert fragment in str(exc), "%r not in %r" % (fragment, str(exc))
        return
    raise AssertionError("expected %s containing %r" % (exc_type.__name__, fragment))


# -- the prefect shim exposes Orion's own objects -----------------------------
import orion
import prefect
from prefect import flow, get_run_logger, task
from prefect.deployments import DeploymentSpec
from prefect.flow_runners import DockerFlowRunner, KubernetesFlowRunner, SubprocessFlowRunner, UniversalFlowRunner
from prefect.orion.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule
from prefect.task_runners import SequentialTaskRunner

assert flow is orion.flow and DeploymentSpec is orion.DeploymentSpec and prefect.Flow is orion.Flow
assert IntervalSchedule is orion.IntervalSchedule and SubprocessFlowRunner is orion.SubprocessFlowRunner

# -- flows ---------------------------------------------------------------------


@flow
def hello_world(name="world"):
    return "Hello %s!" % name


assert hello_world.name == "hello-world"
assert hello_world.fn.__name__ == "hello_world"
assert hello_world("Marvin") == "Hello Marvin!"
assert hello_world.parameters == {
    "type": "object",
    "properties": {"name": {"default": "world"}},
    "required": [],
}, hello_world.parameters


@flow(name="custom", version="7", description="d", retries=3, retry_delay_seconds=1.5, task_runner=SequentialTaskRunner())
def custom(a: int, b: "str" = "x", *rest, c: float = 1.0, d=object(), **kw):
    """Doc."""


assert (custom.name, custom.version, custom.description, custom.retries, custom.retry_delay_seconds) == (
    "custom",
    "7",
    "d",
    3,
    1.5,
)
assert custom.parameters == {
    "type": "object",
    "properties": {
        "a": {"type": "integer"},
        "b": {"default": "x", "type": "string"},
        "c": {"default": 1.0, "type": "number"},
        "d": {},
    },
    "required": ["a"],
    "additionalProperties": True,
}, custom.parameters


@flow
def documented():
    """The docstring."""


assert documented.description == "The docstring."
assert len(documented.version) == 32  # MD5 of this file

expect_error(TypeError, "'nope'", flow, nope=1)

# The call hook lets later work track direct calls.
from orion.flows import set_call_hook

calls = []
previous = set_call_hook(lambda f, args, kwargs: calls.append((f.name, args, kwargs)) or "hooked")
assert hello_world("x") == "hooked" and calls == [("hello-world", ("x",), {})]
set_call_hook(previous)
assert hello_world("y") == "Hello y!"

# -- tasks and logger ------------------------------------------------------------


@task
def add(x, y=1):
    return x + y


@task(name="named", retries=2)
def mul(x, y):
    return x * y


assert add(1) == 2 and add.fn(1, 2) == 3 and mul(2, 3) == 6 and mul.name == "named"
assert add.submit(5).result() == 6
assert [f.result() for f in add.map([1, 2], [10, 20])] == [11, 22]

captured = io.StringIO()
real_stderr, sys.stderr = sys.stderr, captured
try:
    logger = get_run_logger()
    logger.info("hello from logger")
finally:
    sys.stderr = real_stderr
assert isinstance(logger, logging.Logger)
assert "hello from logger" in captured.getvalue(), captured.getvalue()
assert get_run_logger() is logger and len(logger.handlers) == 1

# -- deployment specs outside the loader: validated, not registered -------------
import os
import pathlib

from orion import _context

spec = DeploymentSpec(flow=hello_world, name="outside")
assert spec.flow_name == "hello-world", spec.flow_name
assert spec.flow_location == os.path.abspath(__file__), spec.flow_location
expect_error(ValueError, "`name` is required", DeploymentSpec, flow=hello_world)
expect_error(ValueError, "Either `flow` or `flow_location` must be provided.", DeploymentSpec, name="x")
expect_error(
    ValueError,
    "`flow.name` and `flow_name` must match. Got 'hello-world' and 'b'.",
    DeploymentSpec,
    name="x",
    flow=hello_world,
    flow_name="b",
)
expect_error(TypeError, "'flow_storage'", DeploymentSpec, name="x", flow=hello_world, flow_storage=1)
expect_error(ValueError, "`tags`", DeploymentSpec, name="x", flow=hello_world, tags="oops")
expect_error(ValueError, "`schedule`", DeploymentSpec, name="x", flow=hello_world, schedule="daily")
expect_error(ValueError, "`retries`", DeploymentSpec, name="x", flow=hello_world, retries=-1)

rel = DeploymentSpec(name="rel", flow_location=pathlib.Path("sub/flow.py"))
assert rel.flow_location == os.path.join(os.path.dirname(os.path.abspath(__file__)), "sub", "flow.py"), rel.flow_location
assert DeploymentSpec(name="abs", flow_location="/tmp/../tmp/f.py").flow_location == "/tmp/f.py"

with _context.collecting() as registry:
    DeploymentSpec(flow=hello_world, name="a", tags=["1"])
    DeploymentSpec(flow=hello_world, name="b")
    DeploymentSpec(flow=hello_world, name="a", tags=["2"])
    with _context.inert():
        DeploymentSpec(name=None, flow="not a flow", bogus=True)  # no-op
        CronSchedule("not a cron")
        SubprocessFlowRunner(cpu=1) if False else None
assert [(k, v.tags) for k, v in registry.items()] == [
    (("b", "hello-world"), None),
    (("a", "hello-world"), ["2"]),
], list(registry.items())

# -- schedules ----------------------------------------------------------------------
assert IntervalSchedule(interval=timedelta(minutes=5)).to_dict() == {"interval": 300.0, "anchor_date": None, "timezone": None}
assert IntervalSchedule(interval=1.5, anchor_date=datetime(2022, 1, 1)).to_dict() == {
    "interval": 1.5,
    "anchor_date": "2022-01-01T00:00:00+00:00",
    "timezone": None,
}
assert IntervalSchedule(3600, anchor_date="2022-01-01T10:00:00Z").to_dict()["anchor_date"] == "2022-01-01T10:00:00+00:00"
assert IntervalSchedule(60, timezone="Europe/Berlin").to_dict()["timezone"] == "Europe/Berlin"
expect_error(ValueError, "`interval`", IntervalSchedule, interval=0)
expect_error(ValueError, "`interval`", IntervalSchedule, interval=timedelta(seconds=-1))
expect_error(ValueError, "`interval`", IntervalSchedule, interval="1h")
expect_error(ValueError, "`anchor_date`", IntervalSchedule, interval=1, anchor_date="yesterday")
expect_error(ValueError, "`timezone`", IntervalSchedule, interval=1, timezone="Mars/Olympus")

assert CronSchedule("*/5  *  * * *").to_dict() == {"cron": "*/5 * * * *", "timezone": None, "day_or": True}
assert CronSchedule("@HOURLY", timezone="UTC", day_or=False).to_dict() == {"cron": "@hourly", "timezone": "UTC", "day_or": False}
expect_error(ValueError, "`cron`", CronSchedule, "* * * *")
expect_error(ValueError, "`cron`", CronSchedule, "@reboot")
expect_error(ValueError, "`cron`", CronSchedule, "* * * * * *")
expect_error(ValueError, "`cron`", CronSchedule, "* * * * $")
expect_error(ValueError, "`day_or`", CronSchedule, "* * * * *", day_or="yes")

assert RRuleSchedule("FREQ=DAILY;INTERVAL=2", timezone="America/New_York").to_dict() == {
    "rrule": "FREQ=DAILY;INTERVAL=2",
    "timezone": "America/New_York",
}
expect_error(ValueError, "`rrule`", RRuleSchedule, "every day")
expect_error(ValueError, "`rrule`", RRuleSchedule, 42)

# -- flow runners ---------------------------------------------------------------------
assert SubprocessFlowRunner().to_dict() == {"type": "subprocess", "env": {}, "config": {"stream_output": True}}
assert SubprocessFlowRunner(virtualenv=pathlib.Path("/venv")).to_dict()["config"] == {"stream_output": True, "virtualenv": "/venv"}
assert UniversalFlowRunner(env={"A": 1}).to_dict() == {"type": "universal", "env": {"A": "1"}, "config": {}}
assert DockerFlowRunner(image="img", image_pull_policy="if_not_present", auto_remove=True).to_dict() == {
    "type": "docker",
    "env": {},
    "config": {
        "image": "img",
        "image_pull_policy": "IF_NOT_PRESENT",
        "networks": [],
        "labels": {},
        "volumes": [],
        "auto_remove": True,
        "stream_output": True,
    },
}
assert KubernetesFlowRunner(restart_policy="OnFailure", image_pull_policy="always").to_dict()["config"] == {
    "namespace": "default",
    "labels": {},
    "image_pull_policy": "Always",
    "restart_policy": "OnFailure",
    "stream_output": True,
}
expect_error(TypeError, "'cpu'", SubprocessFlowRunner, cpu=1)
expect_error(TypeError, "'namespace'", DockerFlowRunner, namespace="x")
expect_error(TypeError, "", SubprocessFlowRunner, {"A": "1"})  # positional
expect_error(ValueError, "not both", SubprocessFlowRunner, virtualenv="/a", condaenv="b")
expect_error(ValueError, "`volumes`", DockerFlowRunner, volumes=["/no-colon"])
expect_error(ValueError, "`image_pull_policy`", DockerFlowRunner, image_pull_policy="sometimes")
expect_error(ValueError, "`env`", SubprocessFlowRunner, env={"A": None})
expect_error(ValueError, "`stream_output`", SubprocessFlowRunner, stream_output="yes")

# -- cutting text to a byte limit (state messages, log lines) ---------------------------
from orion._util import cap_utf8

assert cap_utf8("short", 10, " (%d)") == "short"
assert cap_utf8("x" * 10, 10, " (%d)") == "x" * 10
for unit in ("x", "\u00e9", "\u20ac", "\U0001F600"):
    text = "ValueError: " + unit * 1000
    cut = cap_utf8(text, 500, " ... (cut: the message was %d bytes)")
    assert len(cut.encode("utf-8")) <= 500, (unit, len(cut.encode("utf-8")))
    assert len(cut.encode("utf-8")) > 500 - 4 - 40, (unit, len(cut.encode("utf-8")))
    assert cut.startswith("ValueError: " + unit), cut[:20]
    assert cut.endswith(" ... (cut: the message was %d bytes)" % len(text.encode("utf-8"))), cut[-50:]

# -- JSON conversion of spec parameters -------------------------------------------------
import decimal
import enum
import uuid

from orion._util import to_jsonable


class Color(enum.Enum):
    RED = "red"


assert to_jsonable(
    {
        "d": datetime(2022, 1, 1, tzinfo=timezone.utc),
        "t": timedelta(seconds=90),
        "u": uuid.UUID(int=1),
        "p": pathlib.PurePosixPath("/x"),
        "e": Color.RED,
        "s": {2, 1},
        "tu": (1, "a"),
        "dec": decimal.Decimal("2.5"),
        "b": b"hi",
    }
) == {
    "d": "2022-01-01T00:00:00+00:00",
    "t": 90.0,
    "u": "00000000-0000-0000-0000-000000000001",
    "p": "/x",
    "e": "red",
    "s": [1, 2],
    "tu": [1, "a"],
    "dec": 2.5,
    "b": "hi",
}
expect_error(TypeError, "object", to_jsonable, {"x": object()})
expect_error(ValueError, "nan", to_jsonable, float("nan"))

# -- tracked runs' log shipping retries refused batches -------------------------
from orion import tracking
from orion.api import APIError


class FlakyClient:
    """Refuses the first two batches (429, then no answer), then stores."""

    def __init__(self):
        self.calls, self.stored = 0, []

    def create_logs(self, batch):
        self.calls += 1
        if self.calls == 1:
            raise APIError("POST logs: HTTP 429 retry in 10ms", 429)
        if self.calls == 2:
            raise APIError("cannot reach the Orion API", None)
        self.stored.extend(batch)
        return len(batch)


tracking.RETRY_FIRST_DELAY = 0.001
flaky = FlakyClient()
shipper = tracking._LogShipper(flaky, "run-1")
for i in range(3):
    shipper.add(20, "stdout", "line %d" % i)
shipper.close()
assert [e["message"] for e in flaky.stored] == ["line 0", "line 1", "line 2"], flaky.stored
assert flaky.calls == 3, flaky.calls


class RefusingClient:
    def __init__(self):
        self.calls = 0

    def create_logs(self, batch):
        self.calls += 1
        raise APIError("POST logs: HTTP 400 bad", 400)


refusing = RefusingClient()
shipper = tracking._LogShipper(refusing, "run-2")
shipper.add(20, "stdout", "x")
shipper.close()
assert refusing.calls == 1, "a 400 is not retried"

print("API CHECKS OK")
