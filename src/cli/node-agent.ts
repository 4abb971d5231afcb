// `amime node-agent`: the per-node part of Amime on Kubernetes (`amime install`'s DaemonSet), as
// Istio CNI's node agent: it keeps each injected pod's service capture rules in step with its
// sidecar's outbound TCP listeners (src/runtime/kubernetes-node/).
import { systemClock } from "../core/clock.ts";
import { findKubeConfig } from "../control-plane/kubernetes/kube-config.ts";
import { ServiceCaptureAgent } from "../runtime/kubernetes-node/service-capture-agent.ts";
import type { Command } from "./command.ts";
import { readFlags, runParsed, UsageError } from "./lib/args.ts";
import { untilSignal } from "./lib/signals.ts";

export const NODE_AGENT_HELP = `Usage: amime node-agent [--node NAME] [--kubeconfig FILE] [options]

Run on every node of a cluster (amime install's DaemonSet: host network and PID namespace, root
with NET_ADMIN, NET_RAW, SYS_ADMIN and SYS_PTRACE). For each pod of this node that was injected with a sidecar, it keeps the pod's
AMIME_SERVICES chain (the one istio-init's \`amime capture\` leaves empty) equal to the sidecar's
outbound TCP listeners: outbound TCP to a Service's cluster IP and port goes to the sidecar's
listener for that service, instead of 15001 (HTTP, routed by Host). It reads the pods bound to
this node and the Services from the API server, each sidecar's listeners from its read-only
status port (pod IP:15021, /listeners), finds the pod's network namespace among the host's processes by the
pod IP, and writes that one chain with nsenter + iptables-restore --noflush. docs/kubernetes.md.

Options:
      --node NAME          this node's name (default: $NODE_NAME, from the downward API)
      --kubeconfig FILE    the cluster (default: kubectl's lookup, then the pod's service account)
      --domain-suffix SUFFIX  the cluster's DNS domain in service hosts (default: cluster.local)
      --interval-ms N      how often every sidecar's listeners are read (default: 2000)
  -h, --help               show this help

Runs until SIGTERM or SIGINT (exit 0). Exit status 1 when the API server cannot be read at start,
2 on usage errors.
`;

interface Args {
  node?: string;
  kubeconfig?: string;
  domainSuffix: string;
  intervalMs: number;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const out: Args = { domainSuffix: "cluster.local", intervalMs: 2000, help: false };
  out.help = readFlags(argv, {
    "--node": (f) => { out.node = f.required("a node name"); },
    "--kubeconfig": (f) => { out.kubeconfig = f.required("a kubeconfig file"); },
    "--domain-suffix": (f) => { out.domainSuffix = f.required("a DNS domain"); },
    "--interval-ms": (f) => {
      const v = f.required("milliseconds");
      if (!/^\d+$/.test(v) || Number(v) < 100) throw new UsageError(`--interval-ms: "${v}" is not a number of milliseconds (100 or more)`);
      out.intervalMs = Number(v);
    },
  });
  out.node ??= process.env.NODE_NAME;
  if (!out.help && (out.node === undefined || out.node === "")) throw new UsageError("--node (or $NODE_NAME) is required");
  return out;
}

export const nodeAgentCommand: Command = {
  name: "node-agent",
  run: runParsed("node-agent", NODE_AGENT_HELP, parseArgs, async (args) => {
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    let agent: ServiceCaptureAgent;
    try {
      const conn = findKubeConfig(args.kubeconfig);
      agent = await ServiceCaptureAgent.start({ conn, node: args.node as string, domainSuffix: args.domainSuffix, intervalMs: args.intervalMs, clock: systemClock, log });
    } catch (e) {
      process.stderr.write(`amime node-agent: ${(e as Error).message}\n`);
      return 1;
    }
    const stopped = untilSignal();
    process.stdout.write(`${JSON.stringify({ ready: true, node: args.node })}\n`);
    await stopped;
    agent.close();
    await agent.settled();
    return 0;
  }),
};
