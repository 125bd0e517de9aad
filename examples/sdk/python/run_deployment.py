"""List Orion deployments and start a run, with the generated gRPC client.

    PYTHONPATH=gen/python /usr/bin/python3 examples/sdk/python/run_deployment.py hello-world/hello-world-daily name=Marvin

Needs Debian's python3-grpcio and python3-protobuf. The server is found
through ORION_API_URL (default http://127.0.0.1:4200; https:// uses TLS, with
ORION_TLS_CA as the trusted CA when set); ORION_API_KEY, when set, is sent as
the bearer token.
"""
import os
import sys
from urllib.parse import urlparse

import grpc
from google.protobuf import struct_pb2

from orion.v1 import deployment_service_pb2 as deployments
from orion.v1 import deployment_service_pb2_grpc as deployments_grpc
from orion.v1 import flow_run_service_pb2 as flow_runs
from orion.v1 import flow_run_service_pb2_grpc as flow_runs_grpc
from orion.v1 import state_pb2

TERMINAL = {
    state_pb2.STATE_TYPE_COMPLETED,
    state_pb2.STATE_TYPE_FAILED,
    state_pb2.STATE_TYPE_CANCELLED,
    state_pb2.STATE_TYPE_CRASHED,
}


def channel() -> grpc.Channel:
    url = urlparse(os.environ.get("ORION_API_URL", "http://127.0.0.1:4200"))
    token = os.environ.get("ORION_API_KEY", "")
    if url.scheme == "https":
        ca = os.environ.get("ORION_TLS_CA")
        creds = grpc.ssl_channel_credentials(open(ca, "rb").read() if ca else None)
        if token:
            creds = grpc.composite_channel_credentials(creds, grpc.access_token_call_credentials(token))
        return grpc.secure_channel(f"{url.hostname}:{url.port or 443}", creds)
    ch = grpc.insecure_channel(f"{url.hostname}:{url.port or 80}")
    if token:  # a loopback server without TLS: send the token as plain metadata
        ch = grpc.intercept_channel(ch, _BearerInterceptor(token))
    return ch


class _BearerInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, token):
        self._md = ("authorization", "Bearer " + token)

    def _with_token(self, details):
        md = list(details.metadata or []) + [self._md]
        return details._replace(metadata=md) if hasattr(details, "_replace") else _Details(details, md)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, d, metadata):
        self.method, self.timeout, self.metadata = d.method, d.timeout, metadata
        self.credentials, self.wait_for_ready, self.compression = d.credentials, d.wait_for_ready, d.compression


def main(argv):
    if len(argv) < 2 or "/" not in argv[1]:
        print("usage: run_deployment.py FLOW/DEPLOYMENT [name=value ...]", file=sys.stderr)
        return 2
    flow_name, deployment_name = argv[1].split("/", 1)
    params = struct_pb2.Struct()
    for pair in argv[2:]:
        key, _, value = pair.partition("=")
        params[key] = value

    with channel() as ch:
        deps = deployments_grpc.DeploymentServiceStub(ch)
        runs = flow_runs_grpc.FlowRunServiceStub(ch)

        for d in deps.ListDeployments(deployments.ListDeploymentsRequest()).deployments:
            print(f"deployment {d.flow_name}/{d.name} ({d.id})")

        dep = deps.GetDeploymentByName(
            deployments.GetDeploymentByNameRequest(flow_name=flow_name, deployment_name=deployment_name)
        ).deployment
        run = deps.CreateDeploymentFlowRun(
            deployments.CreateDeploymentFlowRunRequest(deployment_id=dep.id, parameters=params)
        ).flow_run
        print(f"created flow run {run.name} ({run.id})")

        # WatchFlowRun streams the run after every change and ends when it is terminal.
        for update in runs.WatchFlowRun(flow_runs.WatchFlowRunRequest(id=run.id), timeout=120):
            state = update.flow_run.state
            print(f"state {state.name}")
            if state.type in TERMINAL:
                return 0 if state.type == state_pb2.STATE_TYPE_COMPLETED else 1
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
