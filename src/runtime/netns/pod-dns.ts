// Service names inside a pod: `ip netns exec` bind-mounts /etc/netns/<pod>/hosts and resolv.conf
// over /etc/hosts and /etc/resolv.conf for every process it starts, so each pod gets a hosts file
// naming every service VIP the way Kubernetes DNS does (`<svc>` in the pod's own namespace,
// `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.cluster.local`) plus ServiceEntry hosts, and a
// resolv.conf with the pod's search path. Pure: the runtime writes the text. Why files and not a
// DNS proxy on :53: docs/netns.md.

export interface ServiceVip {
  /** The service's host: `reviews.default.svc.cluster.local`, or a ServiceEntry host. */
  host: string;
  vip: string;
}

/** The names a pod in `podNamespace` resolves to `host` (Kubernetes DNS names, else the host itself). */
export function namesOf(host: string, podNamespace: string, domainSuffix: string): string[] {
  const kube = `.svc.${domainSuffix}`;
  if (!host.endsWith(kube)) return [host];
  const parts = host.slice(0, -kube.length).split(".");
  if (parts.length !== 2) return [host];
  const [name, ns] = parts as [string, string];
  return [...(ns === podNamespace ? [name] : []), `${name}.${ns}`, `${name}.${ns}.svc`, host];
}

/** /etc/hosts of one pod. */
export function hostsFile(pod: { name: string; ip: string; namespace: string }, services: readonly ServiceVip[], domainSuffix: string): string {
  // No ::1: pods have no IPv6 (network.ts), so localhost must not resolve to it.
  const lines = ["# written by amime up --runtime netns (docs/netns.md)", "127.0.0.1\tlocalhost", `${pod.ip}\t${pod.name}`];
  for (const s of [...services].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))) {
    if (s.host.startsWith("*")) continue;
    lines.push(`${s.vip}\t${namesOf(s.host, pod.namespace, domainSuffix).join(" ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** /etc/resolv.conf of one pod: Kubernetes' search path; no name server answers, so unknown names fail at once. */
export function resolvConf(podNamespace: string, domainSuffix: string): string {
  return [
    "# written by amime up --runtime netns (docs/netns.md): names come from /etc/hosts",
    `search ${podNamespace}.svc.${domainSuffix} svc.${domainSuffix} ${domainSuffix}`,
    "nameserver 127.0.0.1",
    "options ndots:5",
    "",
  ].join("\n");
}
