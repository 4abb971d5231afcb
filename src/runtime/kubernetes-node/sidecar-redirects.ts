// What an injected pod's AMIME_SERVICES chain must hold: one redirect per outbound TCP listener
// its sidecar has bound (`outbound_tcp|<port>|<host>` on 127.0.0.1:<local port>, read from the
// sidecar's `/listeners` on its status port), from each of the service's cluster IPs on that port. Pure.
import type { ServiceRedirect } from "../netns/capture-rules.ts";

/** A row of the sidecar's `/listeners` on its status port 15021 (the part read here). */
export interface ListenerRow {
  name: string;
  port: number;
}

/** The cluster IPs of a Kubernetes Service, by `<name>.<namespace>`. */
export type ServiceVips = ReadonlyMap<string, readonly string[]>;

const PREFIX = "outbound_tcp|";

/**
 * The redirects for `listeners`. A host that is not `<name>.<namespace>.svc.<suffix>` of a
 * Service with a cluster IP (a ServiceEntry host, a headless Service) has no VIP to capture and is
 * returned in `unmatched`. Sorted, so equal inputs render equal rules.
 */
export function sidecarRedirects(listeners: readonly ListenerRow[], vips: ServiceVips, domainSuffix: string): { redirects: ServiceRedirect[]; unmatched: string[] } {
  const redirects: ServiceRedirect[] = [];
  const unmatched: string[] = [];
  const tail = `.svc.${domainSuffix}`;
  for (const l of listeners) {
    if (!l.name.startsWith(PREFIX)) continue;
    const [, port = "", host = ""] = l.name.split("|");
    // What the status port answers is the pod's to say: a row that is not a port is skipped, so it
    // cannot fail the whole chain (and it can only ever redirect that pod's own traffic).
    if (!isPort(Number(port)) || !isPort(l.port)) continue;
    const key = host.endsWith(tail) ? host.slice(0, -tail.length) : "";
    const ips = vips.get(key) ?? [];
    if (ips.length === 0) unmatched.push(`${host}:${port}`);
    for (const vip of ips) redirects.push({ vip, port: Number(port), localPort: l.port });
  }
  redirects.sort((a, b) => a.vip.localeCompare(b.vip) || a.port - b.port || a.localPort - b.localPort);
  return { redirects, unmatched: unmatched.sort() };
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** A v1 Service's IPv4 cluster IPs (`spec.clusterIPs`, else `spec.clusterIP`; none when headless). */
export function clusterIPv4s(spec: { clusterIP?: unknown; clusterIPs?: unknown } | undefined): string[] {
  const list = Array.isArray(spec?.clusterIPs) ? spec.clusterIPs : [spec?.clusterIP];
  return list.filter((ip): ip is string => typeof ip === "string" && /^\d+\.\d+\.\d+\.\d+$/.test(ip));
}
