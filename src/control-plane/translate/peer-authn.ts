// PeerAuthentication → the mTLS mode of a sidecar's inbound port (Istio's precedence): the
// workload-selector policy in the proxy's namespace (the oldest, here the first by name, when
// several select it), else the namespace-wide one, else the mesh-wide one in the root namespace,
// else PERMISSIVE. UNSET (or no `mtls`) inherits from the next level up; `portLevelMtls` of the
// selector policy, keyed by the workload port, overrides its mode for that port (UNSET there
// inherits the policy's own). docs/security.md
import type { PeerAuthenticationSpec } from "../../model/specs/security.ts";
import type { ConfigEntry } from "../../model/snapshot.ts";
import { labelsMatch } from "../../model/registry.ts";
import type { ProxyScope } from "./scope.ts";

export type InboundMtlsMode = "STRICT" | "PERMISSIVE" | "DISABLE";

const byName = (a: ConfigEntry<PeerAuthenticationSpec>, b: ConfigEntry<PeerAuthenticationSpec>): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function modeOf(m: { mode?: string } | undefined): InboundMtlsMode | undefined {
  const mode = m?.mode;
  return mode === "STRICT" || mode === "PERMISSIVE" || mode === "DISABLE" ? mode : undefined;
}

/** The effective mode of the proxy's inbound workload port `port`. */
export function inboundMtlsMode(scope: ProxyScope, port: number): InboundMtlsMode {
  const { snapshot, node } = scope;
  const all = snapshot.peerAuthentications;
  const ns = node.namespace;
  const workload = all.filter((p) => p.namespace === ns && p.spec.selector?.matchLabels !== undefined && labelsMatch(p.spec.selector.matchLabels, node.labels)).sort(byName)[0];
  const namespaceWide = all.filter((p) => p.namespace === ns && p.spec.selector?.matchLabels === undefined).sort(byName)[0];
  const meshWide = all.filter((p) => p.namespace === snapshot.mesh.rootNamespace && p.spec.selector?.matchLabels === undefined).sort(byName)[0];
  return (
    modeOf(workload?.spec.portLevelMtls?.[String(port)]) ??
    modeOf(workload?.spec.mtls) ??
    modeOf(namespaceWide?.spec.mtls) ??
    modeOf(meshWide?.spec.mtls) ??
    "PERMISSIVE"
  );
}
