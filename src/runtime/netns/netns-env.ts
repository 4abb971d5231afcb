// What a pod's processes run as and with (netns runtime): the command line that enters the pod's
// network namespace with the app's or the sidecar's privileges (`amime exec` uses it too), and the
// app's environment: none of this process's proxy variables, where to listen, its identity and
// Kubernetes' service variables.
import { join } from "node:path";
import { portEnvName, type InstancePlan, type InstancePorts } from "../local/plan.ts";
import { REPO_ROOT } from "../paths.ts";
import { PROXY_GID, PROXY_UID } from "./capture-rules.ts";

/** The app's capabilities: none but binding ports below 1024; uid 0 keeps file access as root. */
export const APP_PRIVILEGES = ["--bounding-set=-all,+net_bind_service", "--inh-caps=-all", "--no-new-privs"];
export const PROXY_PRIVILEGES = [`--reuid=${PROXY_UID}`, `--regid=${PROXY_GID}`, "--clear-groups", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"];

const PROXY_VARIABLES = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "NODE_USE_ENV_PROXY"];

/** The environment of a process in a pod: this one's, without any proxy variable, Node 24 first on PATH. */
export function podBaseEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !PROXY_VARIABLES.includes(k) && k !== "AMIME_PROXY_TOKEN") env[k] = v;
  env.PATH = [join(REPO_ROOT, "node_modules", ".bin"), env.PATH ?? ""].filter(Boolean).join(":");
  return env;
}

/** The command line that runs `cmd` in pod `netns` as its app (exec uses it too). */
export function inPod(netns: string, privileges: readonly string[], command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: "ip", args: ["netns", "exec", netns, "setpriv", ...privileges, command, ...args] };
}

/**
 * Kubernetes' service variables: `REVIEWS_SERVICE_HOST`, `_SERVICE_PORT=9080`, `_SERVICE_PORT_HTTP=9080`.
 * The host is the VIP when every request naming it is routed: a VIP from the config (translation
 * knows it as a domain), or a service whose ports are all TCP (per-VIP:port redirects). An
 * allocated VIP is not among an HTTP service's domains, so HTTP services get their name, as in
 * the local runtime.
 */
export function kubeServiceEnv(services: readonly { name: string; host: string; ports: readonly { name: string; port: number }[] }[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of services) {
    const key = s.name.toUpperCase().replace(/[-.]/g, "_");
    const first = s.ports[0];
    if (!first) continue;
    env[`${key}_SERVICE_HOST`] = s.host;
    env[`${key}_SERVICE_PORT`] = String(first.port);
    for (const p of s.ports) if (p.name) env[`${key}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, "_")}`] = String(p.port);
  }
  return env;
}

/** The app's environment in a pod: no proxy variables; where to listen; identity; Kubernetes service variables. */
export function podAppEnv(plan: InstancePlan, ports: InstancePorts, services: Readonly<Record<string, string>>, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env = podBaseEnv(base);
  Object.assign(env, services);
  env.AMIME_INSTANCE = plan.name;
  env.AMIME_WORKLOAD = plan.workload;
  env.AMIME_NAMESPACE = plan.namespace;
  env.AMIME_SERVICE_ACCOUNT = plan.spec.serviceAccount;
  const first = plan.spec.ports[0];
  if (first) env.PORT = String(ports.app.get(first.containerPort));
  else delete env.PORT;
  // Every interface of the pod, as in Kubernetes: the capture rules make the sidecar the only way in.
  env.HOST = "0.0.0.0";
  for (const p of plan.spec.ports) if (p.name) env[portEnvName(p.name)] = String(ports.app.get(p.containerPort));
  for (const e of plan.spec.env) env[e.name] = e.value;
  return env;
}
