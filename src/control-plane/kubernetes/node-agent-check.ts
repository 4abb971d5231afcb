// `amime analyze --use-kube`: is TCP to the cluster's Services captured in injected pods? Only
// `amime node-agent` (amime install's DaemonSet) fills a pod's AMIME_SERVICES chain; without it,
// a connection to a TCP Service port's cluster IP lands on the sidecar's HTTP port 15001 and is
// closed as bad HTTP (docs/kubernetes.md, "The node agent"). One warning (AMM1024) per such port.
import { AnalyzerCodes } from "../../config/analyzer-codes.ts";
import type { Diagnostic } from "../../model/diagnostic.ts";
import { isHttpProtocol } from "../../config/checks/protocol.ts";
import type { Resource } from "../../model/resource.ts";
import { protocolFromPort } from "../../model/snapshot-services.ts";
import { KubeApiError, listAll } from "./reflector.ts";
import type { KubeConnection } from "./kube-config.ts";
import { NODE_AGENT_LABEL_SELECTOR } from "./node-agent-name.ts";

/** Whether a DaemonSet of `amime node-agent` exists in any namespace; null when the caller may not list DaemonSets. */
export async function nodeAgentInstalled(conn: KubeConnection): Promise<boolean | null> {
  try {
    const { items } = await listAll(conn, `/apis/apps/v1/daemonsets?labelSelector=${encodeURIComponent(NODE_AGENT_LABEL_SELECTOR)}`);
    return items.length > 0;
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 403) return null;
    throw e;
  }
}

/** The warnings for `services` (the cluster's v1 Services) when no node agent runs. */
export function nodeAgentMissing(services: readonly Resource[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const r of services) {
    if (r.kind !== "Service" || r.group !== "") continue;
    const spec = (r.body.spec ?? {}) as { clusterIP?: string; ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[] };
    // Headless: no cluster IP to redirect, with or without the node agent.
    if (spec.clusterIP === "None") continue;
    for (const [i, p] of (spec.ports ?? []).entries()) {
      if ((p.protocol ?? "TCP") !== "TCP") continue;
      const protocol = protocolFromPort(p.name ?? "", p.appProtocol);
      // HTTP (and undeclared ports, carried as HTTP) is routed by Host on 15001.
      if (protocol === "" || isHttpProtocol(protocol)) continue;
      const path = `spec.ports[${i}]`;
      out.push({
        level: "warning",
        code: AnalyzerCodes.nodeAgentMissing,
        message: `port ${p.port} (${protocol}) is a TCP service port, but no amime-node-agent DaemonSet runs in the cluster: in injected pods, connections to its cluster IP reach the sidecar's HTTP port 15001 and fail (amime install adds the DaemonSet; docs/kubernetes.md, "The node agent")`,
        resource: `Service ${r.metadata.namespace ?? "default"}/${r.metadata.name}`,
        path,
        source: r.positionOf(["spec", "ports", i]),
      });
    }
  }
  return out;
}
