// `amime exec WORKLOAD|INSTANCE -- CMD [ARGS…]`: run a command inside an instance's mesh context
// (its sidecar as HTTP_PROXY, its identity variables), as `kubectl exec deploy/x -- cmd` does in
// Istio's docs. Finds the running mesh through .amime/up.json in the current directory or the
// nearest parent that has one, as apply/get/proxy-status do (state-file.ts).
import { spawn } from "node:child_process";
import { outboundTcpPorts } from "../control-plane/translate/tcp-listeners.ts";
import { meshEnv } from "../runtime/local/env.ts";
import { nodeId } from "../runtime/local/plan.ts";
import { serviceEnv, serviceLinks } from "../runtime/local/service-env.ts";
import { REPO_ROOT } from "../runtime/paths.ts";
import { APP_PRIVILEGES, inPod, podBaseEnv } from "../runtime/netns/netns-env.ts";
import { readState, statePath, type UpStateInstance } from "../runtime/local/state-file.ts";
import type { Command } from "./command.ts";
import { ControlPlaneClient } from "./lib/control-plane-client.ts";
import { discoverCredential } from "./lib/credential.ts";
import { discoverRootCert } from "./lib/root-cert.ts";

export const EXEC_HELP = `Usage: amime exec WORKLOAD|INSTANCE [-n NAMESPACE] -- CMD [ARGS…]

Run CMD with the mesh context of a running instance of \`amime up\` (read from .amime/up.json in
the current directory or the nearest parent that has one, as apply and get find it):
HTTP_PROXY/http_proxy point at the instance's sidecar, so
\`amime exec curl -- curl -s http://productpage:9080/productpage\` goes through the mesh with the
curl workload's identity and routing rules. Also sets NODE_USE_ENV_PROXY=1 (Node 24 clients),
NO_PROXY="", AMIME_INSTANCE, AMIME_WORKLOAD, AMIME_NAMESPACE, AMIME_SERVICE_ACCOUNT, and for each
Service of the namespace <SVC>_SERVICE_HOST, <SVC>_SERVICE_PORT and <SVC>_SERVICE_PORT_<PORT>, as
Kubernetes does: a TCP service's point at the sidecar's local listener for it, e.g.
\`amime exec curl -- sh -c 'redis-cli -h $REDIS_SERVICE_HOST -p $REDIS_SERVICE_PORT ping'\`.
A workload name picks its first instance (\`reviews-v1\` → \`reviews-v1-0\`).
In a mesh started with \`amime up --runtime netns\`, CMD runs inside that instance's pod (its
network namespace and hosts file, as its app: no capabilities) with no proxy variables: its
connections are captured into the pod's sidecar as the app's are (docs/netns.md). An instance
without a sidecar (sidecar.istio.io/inject: "false") gets no proxy variables: CMD's calls go out
directly.

Options:
  -n, --namespace NS   the instance's namespace (default: any)
  -h, --help           show this help

Exit status: CMD's exit status; 1 when no mesh is running or no such instance; 2 on usage errors;
127 when CMD cannot be started.
`;

export function findInstance(instances: readonly UpStateInstance[], target: string, namespace?: string): UpStateInstance | undefined {
  const inNs = instances.filter((i) => namespace === undefined || i.namespace === namespace);
  return inNs.find((i) => i.name === target) ?? inNs.find((i) => i.workload === target);
}

export const execCommand: Command = {
  name: "exec",
  async run(argv) {
    const dash = argv.indexOf("--");
    const own = dash >= 0 ? argv.slice(0, dash) : argv;
    const cmd = dash >= 0 ? argv.slice(dash + 1) : [];
    let target: string | undefined;
    let namespace: string | undefined;
    for (let i = 0; i < own.length; i++) {
      const a = own[i] as string;
      if (a === "-h" || a === "--help") {
        process.stdout.write(EXEC_HELP);
        return 0;
      }
      if (a === "-n" || a === "--namespace") namespace = own[++i];
      else if (a.startsWith("--namespace=")) namespace = a.slice("--namespace=".length);
      else if (a.startsWith("-")) return usage(`unknown option "${a}"`);
      else if (target === undefined) target = a;
      else return usage(`unexpected argument "${a}" (put the command after --)`);
    }
    if (target === undefined) return usage("which workload or instance? (amime exec NAME -- CMD)");
    if (cmd.length === 0) return usage("no command given after --");
    let instance: UpStateInstance | undefined;
    let controlPlane: string;
    try {
      const state = await readState(process.cwd());
      controlPlane = state.controlPlane;
      instance = findInstance(state.instances, target, namespace);
      if (!instance) {
        process.stderr.write(`amime exec: no instance or workload "${target}"${namespace ? ` in namespace ${namespace}` : ""}; running: ${state.instances.map((i) => i.name).join(", ")}\n`);
        return 1;
      }
    } catch (e) {
      process.stderr.write(`amime exec: ${(e as Error).message}\n`);
      return 1;
    }
    // netns runtime: inside the pod, as its app runs (no proxy variables, no capabilities); its
    // traffic is captured like the app's, and service names resolve from the pod's hosts file.
    const pod = instance.netns;
    const env = pod ? { ...podBaseEnv(), AMIME_INSTANCE: instance.name, AMIME_WORKLOAD: instance.workload, AMIME_NAMESPACE: instance.namespace, AMIME_SERVICE_ACCOUNT: instance.serviceAccount } : instance.sidecar === false ? withoutProxy(meshEnv({ ...instance }, REPO_ROOT)) : { ...meshEnv({ ...instance }, REPO_ROOT), ...(await servicesOf(controlPlane, instance)) };
    const line = pod ? inPod(pod, APP_PRIVILEGES, cmd[0] as string, cmd.slice(1)) : { command: cmd[0] as string, args: cmd.slice(1) };
    return await new Promise<number>((resolve) => {
      const child = spawn(line.command, line.args, { stdio: "inherit", env });
      // The terminal's Ctrl-C reaches the child too (same process group); exec only waits for it.
      const ignore = (): void => {};
      process.on("SIGINT", ignore);
      child.once("error", (e) => {
        process.off("SIGINT", ignore);
        process.stderr.write(`amime exec: cannot run ${cmd[0]}: ${e.message}\n`);
        resolve(127);
      });
      child.once("exit", (code, signal) => {
        process.off("SIGINT", ignore);
        resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1));
      });
    });
  },
};

/** `<SVC>_SERVICE_HOST/PORT` for the instance's namespace, from the config its sidecar was sent. */
async function servicesOf(controlPlane: string, instance: UpStateInstance): Promise<Record<string, string>> {
  try {
    // The admin credential `amime up` wrote beside the state file (or $AMIME_TOKEN…, credential.ts).
    const address = { url: controlPlane, from: statePath(process.cwd()) };
    const credential = await discoverCredential({ address });
    const rootCert = await discoverRootCert({ address, ...(credential ? { credential } : {}) });
    const client = new ControlPlaneClient(controlPlane, { timeoutMs: 5000, ...(credential ? { credential } : {}), ...(rootCert ? { rootCert } : {}) });
    const [config, services] = await Promise.all([client.proxyConfig(nodeId("sidecar", instance.name, instance.namespace)), client.resources({ kind: "Service", namespace: instance.namespace })]);
    return serviceEnv(serviceLinks(services), instance.namespace, outboundTcpPorts(config.listeners));
  } catch (e) {
    process.stderr.write(`amime exec: warning: no <SERVICE>_SERVICE_HOST/PORT variables (${(e as Error).message})\n`);
    return {};
  }
}

function usage(msg: string): number {
  process.stderr.write(`amime exec: ${msg}\n\n${EXEC_HELP}`);
  return 2;
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 } as Record<string, number>)[signal];
}

/** An instance without a sidecar (sidecar.istio.io/inject: "false"): its identity variables, no proxy; calls go out directly. */
function withoutProxy(env: Record<string, string>): Record<string, string> {
  for (const k of ["HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "NODE_USE_ENV_PROXY"]) delete env[k];
  return env;
}
