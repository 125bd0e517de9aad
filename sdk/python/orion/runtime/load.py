"""Discover deployment specs and flows: ``python3 -m orion.runtime.load``.

Usage::

    python3 -m orion.runtime.load specs FILE.py
    python3 -m orion.runtime.load flow FILE.py [--flow-name NAME]

Output contract (the Go package ``sdk/python`` decodes it):

* stdout carries exactly ONE JSON document, written at the end. Anything the
  user's code prints to stdout while it runs is redirected to stderr (at the
  file-descriptor level, so subprocesses and C extensions are covered too).
* ``specs`` exits 0 with::

      {"deployments": [{"name", "flow_name", "flow_location", "push_to_server",
                        "parameters", "parameter_schema", "schedule", "tags",
                        "flow_runner", "description", "work_queue_name",
                        "retries", "retry_delay_seconds",
                        "flow_version", "source": {"file", "line"}}, ...],
       "errors": [{"name", "flow_name", "flow_location", "message", "traceback"}, ...]}

  An empty file gives empty lists (still exit 0). Problems with one spec
  (its flow cannot be loaded, parameters the flow does not accept, values
  that are not JSON) become entries of ``errors``; the other specs still load.
* ``flow`` exits 0 with ``{"flow_name", "flow_location", "parameter_schema",
  "flow_version", "description", "retries", "retry_delay_seconds"}``.
* Failure of the script itself (it raises, or does not exist), or of the flow
  lookup for ``flow``: exit 1, the one-line message and the user's traceback
  on stderr, and ``{"error": {"path", "message", "traceback"}}`` on stdout.
* Bad command-line usage: exit 2 (argparse).

The script runs as with ``runpy.run_path(path, run_name="__orion_loader__")``
(so ``if __name__ == "__main__":`` blocks do not run), with its directory
first on ``sys.path`` and the working directory unchanged.
"""

import argparse
import os
import sys

from orion import _context
from orion._util import dumps, to_jsonable
from orion.runtime.scripts import (
    FlowLoadError,
    exception_summary,
    flows_in,
    format_user_traceback,
    load_flow_from_script,
    load_flows_from_script,
    run_script,
    select_flow,
)

RUN_NAME = "__orion_loader__"


def load_specs(path):
    """Execute the spec file at ``path``; return ``(exit_code, document)``."""
    path = os.path.abspath(path)
    with _context.collecting() as registry:
        try:
            namespace = run_script(path, RUN_NAME)
        except FlowLoadError as exc:
            return 1, _error_document(exc, path)
        specs = list(registry.values())

    # Flows per script path (or the error loading it), so a script shared by
    # several specs runs once. The spec file's own flows are already known.
    cache = {path: flows_in(namespace)}
    deployments = {}
    errors = []
    for spec in specs:
        try:
            entry = _describe(spec, _resolve_flow(spec, cache))
            dumps(entry)  # fail here, per spec, rather than for the whole file
        except FlowLoadError as exc:
            errors.append(_spec_error(spec, exc.message, exc.traceback))
        except Exception as exc:
            errors.append(_spec_error(spec, exception_summary(exc), format_user_traceback(exc)))
        else:
            # Identity is (name, flow_name) once the flow is known: last wins.
            key = (entry["name"], entry["flow_name"])
            deployments.pop(key, None)
            deployments[key] = entry
    return 0, {"deployments": list(deployments.values()), "errors": errors}


def inspect_flow(path, flow_name=None):
    """Load one flow from ``path``; return ``(exit_code, document)``."""
    path = os.path.abspath(path)
    try:
        flow = load_flow_from_script(path, flow_name, run_name=RUN_NAME)
    except FlowLoadError as exc:
        return 1, _error_document(exc, path)
    return 0, {
        "flow_name": flow.name,
        "flow_location": path,
        "parameter_schema": flow.parameters,
        "flow_version": flow.version,
        "description": flow.description,
        "retries": flow.retries,
        "retry_delay_seconds": flow.retry_delay_seconds,
    }


def _resolve_flow(spec, cache):
    """Return the spec's flow object, loading ``flow_location`` if needed."""
    if spec.flow is not None:
        return spec.flow
    location = spec.flow_location
    if location not in cache:
        try:
            cache[location] = load_flows_from_script(location, RUN_NAME)
        except FlowLoadError as exc:
            cache[location] = exc
    loaded = cache[location]
    if isinstance(loaded, FlowLoadError):
        raise loaded
    return select_flow(loaded, spec.flow_name, location)


def _describe(spec, flow):
    """The JSON entry for a spec whose flow has been loaded."""
    schema = flow.parameters
    parameters = dict(spec.parameters or {})
    if not schema.get("additionalProperties"):
        accepted = schema.get("properties", {})
        unknown = [k for k in parameters if k not in accepted]
        if unknown:
            raise FlowLoadError(
                "Flow '%s' does not accept the parameter(s) %s given by deployment '%s'. "
                "Accepted parameters: %s"
                % (
                    flow.name,
                    ", ".join(repr(k) for k in unknown),
                    spec.name,
                    ", ".join(accepted) or "(none)",
                )
            )
    try:
        parameters = to_jsonable(parameters)
    except (TypeError, ValueError) as exc:
        raise FlowLoadError("Invalid `parameters` for deployment '%s': %s" % (spec.name, exc)) from None

    location = spec.flow_location or flow.file
    if not location:
        raise FlowLoadError(
            "Could not infer `flow_location` for flow '%s' (it is not defined in a file); "
            "pass flow_location=..." % flow.name
        )
    return {
        "name": spec.name,
        "flow_name": flow.name,
        "flow_location": location,
        "push_to_server": spec.push_to_server,
        "parameters": parameters,
        "parameter_schema": schema,
        "schedule": spec.schedule.to_dict() if spec.schedule is not None else None,
        "tags": list(spec.tags or []),
        "flow_runner": spec.flow_runner.to_dict() if spec.flow_runner is not None else None,
        "description": spec.description if spec.description is not None else flow.description,
        "work_queue_name": spec.work_queue_name,
        "retries": spec.retries if spec.retries is not None else flow.retries,
        "retry_delay_seconds": (
            spec.retry_delay_seconds if spec.retry_delay_seconds is not None else flow.retry_delay_seconds
        ),
        "flow_version": flow.version,
        "source": {"file": spec.source_file, "line": spec.source_line},
    }


def _spec_error(spec, message, tb):
    return {
        "name": spec.name,
        "flow_name": spec.flow_name,
        "flow_location": spec.flow_location,
        "message": message,
        "traceback": tb or "",
    }


def _error_document(exc, path):
    """Report a script-level failure on stderr and build the stdout document."""
    sys.stderr.write(exc.message + "\n")
    if exc.traceback:
        sys.stderr.write(exc.traceback)
        if not exc.traceback.endswith("\n"):
            sys.stderr.write("\n")
    return {"error": {"path": exc.path or path, "message": exc.message, "traceback": exc.traceback or ""}}


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m orion.runtime.load",
        description="Load Orion deployment specs or a flow from a Python script; prints JSON.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{specs,flow}")
    sub.required = True
    specs = sub.add_parser("specs", help="execute FILE and print every DeploymentSpec it defines")
    specs.add_argument("file")
    flow = sub.add_parser("flow", help="load a flow from FILE and print its name and parameter schema")
    flow.add_argument("file")
    flow.add_argument("--flow-name", default=None)
    return parser.parse_args(argv)


def main(argv=None):
    """Command-line entry point; never returns (exits the process)."""
    args = _parse_args(argv)

    # Keep the real stdout for the JSON document and point fd 1 at stderr
    # while user code runs.
    sys.stdout.flush()
    result_stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    try:
        if args.command == "specs":
            code, document = load_specs(args.file)
        else:
            code, document = inspect_flow(args.file, args.flow_name)
        text = dumps(document)
    except BaseException as exc:  # a bug in the loader itself
        import traceback

        message = "Orion's Python loader failed: %s" % exception_summary(exc)
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        sys.stderr.write(message + "\n" + tb)
        code = 1
        text = dumps({"error": {"path": os.path.abspath(args.file), "message": message, "traceback": tb}})

    result_stream.write(text + "\n")
    result_stream.flush()
    sys.stderr.flush()
    # Exit without waiting for threads the user's script may have started.
    os._exit(code)


if __name__ == "__main__":
    main()
