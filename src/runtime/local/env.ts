// The environment of a mesh process: the app's own (Workload env, HOST and PORT to bind,
// AMIME_PORT_<NAME>) and the mesh context it shares with `amime exec` (HTTP_PROXY to its sidecar,
// identity variables, the Kubernetes-style `<SVC>_SERVICE_HOST/PORT` of service-env.ts).
// Plain HTTP clients that honour HTTP_PROXY — curl, Python requests, Go net/http, Node 24 with
// NODE_USE_ENV_PROXY=1 — then send every request through the sidecar's outbound listener.
import { delimiter, join } from "node:path";
import { LOCAL_ADDRESS, portEnvName, type InstancePlan, type InstancePorts } from "./plan.ts";

export interface MeshIdentity {
  name: string;
  workload: string;
  namespace: string;
  serviceAccount: string;
  outboundPort: number;
}

/** Proxy and identity variables (what `amime exec` adds to a command's environment). */
export function meshEnv(id: MeshIdentity, repoRoot: string, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  const proxy = `http://127.0.0.1:${id.outboundPort}`;
  env.HTTP_PROXY = proxy;
  env.http_proxy = proxy;
  // Everything goes through the sidecar, loopback included (service names are not resolvable
  // anyway, and a client must not bypass the mesh).
  env.NO_PROXY = "";
  env.no_proxy = "";
  env.NODE_USE_ENV_PROXY = "1";
  env.AMIME_INSTANCE = id.name;
  env.AMIME_WORKLOAD = id.workload;
  env.AMIME_NAMESPACE = id.namespace;
  env.AMIME_SERVICE_ACCOUNT = id.serviceAccount;
  // `node` in a Workload command is the project's Node 24, not whatever the system has.
  env.PATH = [join(repoRoot, "node_modules", ".bin"), env.PATH ?? ""].filter(Boolean).join(delimiter);
  return env;
}

/** `services`: the `<SVC>_SERVICE_*` variables (serviceEnv) for the instance's sidecar. */
export function appEnv(plan: InstancePlan, ports: InstancePorts, repoRoot: string, services: Readonly<Record<string, string>> = {}, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env = meshEnv(
    { name: plan.name, workload: plan.workload, namespace: plan.namespace, serviceAccount: plan.spec.serviceAccount, outboundPort: ports.outbound },
    repoRoot,
    base,
  );
  // Without a sidecar its calls go out directly, as from a pod Istio did not inject.
  if (!plan.sidecar) for (const k of ["HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "NODE_USE_ENV_PROXY"]) delete env[k];
  Object.assign(env, services);
  const first = plan.spec.ports[0];
  if (first) env.PORT = String(ports.app.get(first.containerPort));
  else delete env.PORT;
  // Where to listen: loopback, so that only its own sidecar (and nothing on another interface)
  // reaches the app, as only the pod's sidecar does in Istio.
  env.HOST = LOCAL_ADDRESS;
  for (const p of plan.spec.ports) if (p.name) env[portEnvName(p.name)] = String(ports.app.get(p.containerPort));
  for (const e of plan.spec.env) env[e.name] = e.value;
  return env;
}
