// Which proxies a security policy (RequestAuthentication, AuthorizationPolicy) applies to, as
// Istio's policy_applier selects workloads: root-namespace mesh-wide, namespace-wide, by selector,
// or by targetRef(s) (Gateway, Service, ServiceEntry). Used by authn.ts and ext-authz.ts.
import type { PolicyTargets } from "../../model/specs/security.ts";
import { labelsMatch } from "../../model/registry.ts";
import type { ConfigEntry, Snapshot } from "../../model/snapshot.ts";
import type { ProxyInput } from "./common.ts";

/** Gateway pods created for a Gateway API Gateway carry this label (what targetRef kind Gateway selects). */
const GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";

/** Does a selector / targetRef policy in `entry.namespace` apply to `node`? (Istio's workload selection.) */
export function policySelects(snapshot: Snapshot, entry: ConfigEntry<PolicyTargets>, node: ProxyInput): boolean {
  const ns = node.namespace || "default";
  const spec = entry.spec;
  const refs = spec.targetRefs ?? (spec.targetRef !== undefined ? [spec.targetRef] : []);
  const selector = spec.selector?.matchLabels;
  if (refs.length === 0 && selector === undefined) return entry.namespace === snapshot.mesh.rootNamespace || entry.namespace === ns;
  if (entry.namespace !== ns) return false;
  if (refs.length === 0) return labelsMatch(selector, node.labels);
  return refs.some((ref) => {
    if ((ref.namespace ?? entry.namespace) !== ns) return false;
    if (ref.kind === "Gateway") return node.labels[GATEWAY_NAME_LABEL] === ref.name;
    if (ref.kind === "Service" || ref.kind === "ServiceEntry") {
      return snapshot.services.some((s) => s.namespace === ns && s.name === ref.name && s.selector !== undefined && Object.keys(s.selector).length > 0 && labelsMatch(s.selector, node.labels));
    }
    return false;
  });
}
