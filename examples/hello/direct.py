# Calling a flow directly: no deployment, no agent. The run is recorded on
# the Orion server ($ORION_API_URL), or, with none running, in the local
# store under $ORION_HOME. Run it with the runtime on PYTHONPATH:
#
#   PYTHONPATH="$(orion sdk path)" python3 examples/hello/direct.py Marvin
import sys

from prefect import flow


@flow
def greet(name="world", fail=False):
    print(f"Hello {name}!")
    if fail:
        raise ValueError(f"no greeting for {name}")


if __name__ == "__main__":
    greet(sys.argv[1] if len(sys.argv) > 1 else "world", fail="--fail" in sys.argv)
