import os
import sys

from prefect import flow
from prefect.deployments import DeploymentSpec

print("chatty print to stdout")
sys.stdout.write("{not json\n")
sys.stdout.flush()
os.write(1, b"raw write to fd 1\n")
print("to stderr", file=sys.stderr)


@flow
def hello_world():
    print("never called during load")


DeploymentSpec(flow=hello_world, name="chatty")
