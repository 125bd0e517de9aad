"""Checks of orion.runtime.run's result file: its size bound and the write
in place when the rename is refused (a Kubernetes termination message file
is a mount point). Run by TestRun_ResultFile."""
import errno
import json
import os
import tempfile

from orion.runtime import run

huge = {"state": "FAILED", "message": "ValueError: " + "\u00e9" * 5000}

# No bound: the whole result, one line.
data = run.encode_result(huge)
assert json.loads(data) == huge and data.endswith(b"\n") and data.count(b"\n") == 1

# A bound: the line fits, the state is kept and the message keeps its start.
for limit in (4096, 300, 120):
    data = run.encode_result(huge, limit)
    assert len(data) <= limit, (limit, len(data))
    got = json.loads(data)
    assert got["state"] == "FAILED" and got["message"].startswith("ValueError: \u00e9"), got
    assert got["message"].endswith(" ... (cut)"), got["message"][-20:]
ok = {"state": "COMPLETED", "message": "Flow run completed.", "result": "'x' " * 2000}
got = json.loads(run.encode_result(ok, 4096))
assert got["state"] == "COMPLETED" and got["message"] == "Flow run completed." and got["result"].startswith("'x'"), got

directory = tempfile.mkdtemp()
path = os.path.join(directory, ".orion-result.json")

# $ORION_RESULT_MAX_BYTES bounds the file.
os.environ[run.RESULT_MAX_BYTES_ENV] = "4096"
run.write_result(path, huge)
assert os.path.getsize(path) <= 4096 and json.loads(open(path).read())["state"] == "FAILED"
del os.environ[run.RESULT_MAX_BYTES_ENV]

# A refused rename (EBUSY: the path is a mount point) writes in place,
# leaving no temp file behind; any other error is raised.
real_replace = os.replace


def busy(src, dst):
    raise OSError(errno.EBUSY, "Device or resource busy")


os.replace = busy
try:
    run.write_result(path, {"state": "COMPLETED", "message": "Flow run completed.", "result": "42"})
finally:
    os.replace = real_replace
assert json.loads(open(path).read())["result"] == "42"
assert sorted(os.listdir(directory)) == [".orion-result.json"], os.listdir(directory)


def denied(src, dst):
    raise OSError(errno.EACCES, "Permission denied")


os.replace = denied
try:
    run.write_result(path, huge)
    raise AssertionError("a refused rename other than EBUSY/EXDEV must raise")
except PermissionError:
    pass
finally:
    os.replace = real_replace
assert sorted(os.listdir(directory)) == [".orion-result.json"], os.listdir(directory)
print("ok")
