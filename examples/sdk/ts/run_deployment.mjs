// Create a run of an Orion deployment and follow its state, with the
// generated TypeScript client (gen/ts) over gRPC.
//
//   npm ci            # once, at the repository root (committed lockfile)
//   node examples/sdk/ts/run_deployment.mjs hello-world/hello-world-daily name=Marvin
//
// The server is found through ORION_API_URL (default http://127.0.0.1:4200);
// ORION_API_KEY, when set, is sent as the bearer token.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { DeploymentService } from "../../../gen/ts/orion/v1/deployment_service_pb.js";
import { FlowRunService } from "../../../gen/ts/orion/v1/flow_run_service_pb.js";
import { StateType } from "../../../gen/ts/orion/v1/state_pb.js";

const TERMINAL = new Set([StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED]);

async function main(argv) {
  const [ref, ...pairs] = argv;
  if (!ref || !ref.includes("/")) {
    console.error("usage: run_deployment.mjs FLOW/DEPLOYMENT [name=value ...]");
    return 2;
  }
  const [flowName, deploymentName] = ref.split("/", 2);
  const parameters = Object.fromEntries(pairs.map((p) => p.split(/=(.*)/s, 2)));

  const token = process.env.ORION_API_KEY;
  const bearer = (next) => async (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createGrpcTransport({
    baseUrl: process.env.ORION_API_URL ?? "http://127.0.0.1:4200",
    interceptors: token ? [bearer] : [],
  });
  const deployments = createClient(DeploymentService, transport);
  const flowRuns = createClient(FlowRunService, transport);

  const { deployment } = await deployments.getDeploymentByName({ flowName, deploymentName });
  const { flowRun } = await deployments.createDeploymentFlowRun({ deploymentId: deployment.id, parameters });
  console.log(`created flow run ${flowRun.name} (${flowRun.id})`);

  // WatchFlowRun streams the run after every change and ends when it is terminal.
  for await (const { flowRun: run } of flowRuns.watchFlowRun({ id: flowRun.id }, { timeoutMs: 120_000 })) {
    console.log(`state ${run.state.name}`);
    if (TERMINAL.has(run.state.type)) {
      return run.state.type === StateType.COMPLETED ? 0 : 1;
    }
  }
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  },
);
