// The capture rules of one pod, as istio-iptables writes them for an Istio sidecar, rendered as
// `iptables-restore` input for the pod's own network namespace (the host's tables are never
// touched). Pure: the runtime applies the text (network.ts). docs/netns.md explains each rule.
//
// Outbound (nat OUTPUT → AMIME_OUTPUT): the proxy's own traffic (UID/GID 1337) and loopback leave
// as they are; excluded CIDRs and ports too (and, with includeOutboundIPRanges, addresses outside
// those CIDRs); a TCP service port of a service VIP goes to the
// sidecar's own listener for that service port (AMIME_SERVICES, the "per-VIP:port" redirects the
// control plane's port assignment decides); every other TCP connection goes to 15001, the
// outbound HTTP listener, which routes on Host / :authority.
// Inbound (nat PREROUTING → AMIME_INBOUND): the node (probes, metrics) reaches the pod as is;
// excluded inbound ports too; each declared port is redirected to its sidecar inbound listener.
// The sidecar's read-only ports (status 15021, Prometheus 15090) are open to every peer, never
// redirected. The filter table then refuses (TCP reset) any other TCP connection arriving on the pod's
// interface (the admin port 15000 included), and any other packet but ICMP, so nothing reaches the app without the sidecar. Pods
// have no IPv6 (network.ts turns it off), so IPv4 rules cover everything.

import { OUTBOUND_CAPTURE_PORT, PROXY_GID, PROXY_UID, READ_ONLY_PORTS } from "../../model/sidecar-pod.ts";

// The pod's sidecar layout and capture annotations live in model/sidecar-pod.ts (the injector
// shares them); re-exported for the runtime's callers.
export { ADMIN_PORT, captureAnnotations, CaptureAnnotationError, INBOUND_CAPTURE_PORT, INBOUND_EXTRA_BASE, inboundListenerPort, OUTBOUND_CAPTURE_PORT, PROMETHEUS_PORT, PROXY_GID, PROXY_UID, READ_ONLY_PORTS, RESERVED_PORTS, STATUS_PORT, type CaptureAnnotations } from "../../model/sidecar-pod.ts";

export interface CaptureSpec {
  /** The pod's own IP (an app calling itself is not captured, as loopback). */
  podIp: string;
  /** The node's address as pods see it: its connections (readiness probes, metrics scrapes) are not captured. */
  nodeIp: string;
  /** Declared app port → sidecar inbound listener port. */
  inbound: ReadonlyMap<number, number>;
  /** Every port a sidecar inbound listener binds (what peers dial). */
  inboundListenerPorts: readonly number[];
  /** `traffic.sidecar.istio.io/excludeOutboundPorts`, `…/excludeInboundPorts`, `…/excludeOutboundIPRanges`. */
  excludeOutboundPorts: readonly number[];
  excludeInboundPorts: readonly number[];
  excludeOutboundIPRanges: readonly string[];
  /**
   * `traffic.sidecar.istio.io/includeOutboundIPRanges`: only connections to these CIDRs are
   * captured (an empty list: none). Absent or null: every address (Istio's `*`).
   */
  includeOutboundIPRanges?: readonly string[] | null;
  /** Service VIP:port → the sidecar's local listener port for it (outbound TCP services). */
  services: readonly ServiceRedirect[];
}

export interface ServiceRedirect {
  vip: string;
  port: number;
  localPort: number;
}

export const SERVICES_CHAIN = "AMIME_SERVICES";

/** The full rule set of a pod (iptables-restore input, flushing the pod's nat and filter tables). */
export function captureRules(spec: CaptureSpec): string {
  const nat = [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ":AMIME_INBOUND - [0:0]",
    ":AMIME_OUTPUT - [0:0]",
    `:${SERVICES_CHAIN} - [0:0]`,
    "-A PREROUTING -p tcp -j AMIME_INBOUND",
    `-A AMIME_INBOUND -s ${spec.nodeIp}/32 -j RETURN`,
    ...spec.excludeInboundPorts.map((p) => `-A AMIME_INBOUND -p tcp --dport ${p} -j RETURN`),
    ...[...spec.inbound].map(([app, listener]) => `-A AMIME_INBOUND -p tcp --dport ${app} -j REDIRECT --to-ports ${listener}`),
    "-A OUTPUT -p tcp -j AMIME_OUTPUT",
    `-A AMIME_OUTPUT -m owner --uid-owner ${PROXY_UID} -j RETURN`,
    `-A AMIME_OUTPUT -m owner --gid-owner ${PROXY_GID} -j RETURN`,
    "-A AMIME_OUTPUT -o lo -j RETURN",
    `-A AMIME_OUTPUT -d ${spec.podIp}/32 -j RETURN`,
    ...spec.excludeOutboundIPRanges.map((c) => `-A AMIME_OUTPUT -d ${c} -j RETURN`),
    ...spec.excludeOutboundPorts.map((p) => `-A AMIME_OUTPUT -p tcp --dport ${p} -j RETURN`),
    ...outboundRedirects(spec.includeOutboundIPRanges ?? null),
    ...serviceLines(spec.services),
    "COMMIT",
  ];
  const open = [...new Set([...spec.inboundListenerPorts, ...spec.excludeInboundPorts, ...READ_ONLY_PORTS])].sort((a, b) => a - b);
  const filter = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    "-A INPUT -i lo -j ACCEPT",
    "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    `-A INPUT -s ${spec.nodeIp}/32 -j ACCEPT`,
    ...open.map((p) => `-A INPUT -p tcp --dport ${p} -j ACCEPT`),
    "-A INPUT -p icmp -j ACCEPT",
    "-A INPUT -p tcp -j REJECT --reject-with tcp-reset",
    // UDP is not captured (as in Istio): no other pod may reach an app with it either.
    "-A INPUT -j REJECT",
    "COMMIT",
  ];
  return `${[...nat, ...filter].join("\n")}\n`;
}

/** Into the service redirects, then to 15001: every destination, or only the included CIDRs. */
function outboundRedirects(include: readonly string[] | null): string[] {
  const to = (d: string): string[] => [`-A AMIME_OUTPUT${d} -j ${SERVICES_CHAIN}`, `-A AMIME_OUTPUT${d} -p tcp -j REDIRECT --to-ports ${OUTBOUND_CAPTURE_PORT}`];
  return include === null ? to("") : include.flatMap((c) => to(` -d ${c}`));
}

/** Only the service redirects (iptables-restore --noflush input: replaces that chain's rules). */
export function serviceRules(services: readonly ServiceRedirect[]): string {
  return `${["*nat", `:${SERVICES_CHAIN} - [0:0]`, ...serviceLines(services), "COMMIT"].join("\n")}\n`;
}

function serviceLines(services: readonly ServiceRedirect[]): string[] {
  return services.map((s) => `-A ${SERVICES_CHAIN} -d ${s.vip}/32 -p tcp --dport ${s.port} -j REDIRECT --to-ports ${s.localPort}`);
}
