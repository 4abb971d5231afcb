// Which proxy a command means: `amime proxy-config clusters reviews` takes a node id
// (`sidecar~reviews-v1-0.default`), an instance name (`reviews-v1-0`, optionally `.namespace`) or
// a workload name (`reviews-v1`, its first instance), in that order of preference.
import type { ProxyStatus } from "../../model/wire.ts";
import type { ControlPlaneClient } from "./control-plane-client.ts";
import { CommandError } from "./run.ts";

/** `sidecar~reviews-v1-0.default` → { name: "reviews-v1-0", namespace: "default" }. */
export function instanceOf(node: string): { name: string; namespace: string } {
  const rest = node.slice(node.indexOf("~") + 1);
  const dot = rest.lastIndexOf(".");
  return dot > 0 ? { name: rest.slice(0, dot), namespace: rest.slice(dot + 1) } : { name: rest, namespace: "" };
}

export function matchProxy(proxies: readonly ProxyStatus[], ref: string, namespace?: string): ProxyStatus | undefined {
  const sorted = [...proxies].sort((a, b) => a.node.localeCompare(b.node));
  const inNs = (p: ProxyStatus): boolean => namespace === undefined || p.namespace === namespace;
  const byNode = sorted.find((p) => p.node === ref);
  if (byNode) return byNode;
  const byInstance = sorted.find((p) => {
    const i = instanceOf(p.node);
    return inNs(p) && (i.name === ref || `${i.name}.${i.namespace}` === ref);
  });
  if (byInstance) return byInstance;
  return sorted.find((p) => inNs(p) && (p.workload === ref || `${p.workload}.${p.namespace}` === ref));
}

/** The node id for a reference, or a CommandError listing the proxies the control plane knows. */
export async function resolveProxy(client: ControlPlaneClient, ref: string, namespace?: string): Promise<string> {
  const proxies = await client.proxies();
  const hit = matchProxy(proxies, ref, namespace);
  if (hit) return hit.node;
  const known = proxies.map((p) => p.node).sort();
  const list = known.length > 0 ? `known proxies: ${known.join(", ")}` : "the control plane knows no proxies yet (is `amime up` running workloads?)";
  throw new CommandError("AMIME_NO_PROXY", `amime: no proxy matches ${JSON.stringify(ref)}${namespace ? ` in namespace ${namespace}` : ""}; ${list}`);
}
