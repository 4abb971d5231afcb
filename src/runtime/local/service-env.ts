// Kubernetes-style service variables for an app of the local mesh, as the kubelet sets them for
// the Services of a pod's namespace: `REDIS_SERVICE_HOST`, `REDIS_SERVICE_PORT` (first port) and
// `REDIS_SERVICE_PORT_<PORT NAME>` (each named port). Here they point at what the app can really
// dial: a TCP/TLS service port at its own sidecar's local listener for it (127.0.0.1 and the port
// the control plane gave that listener), an HTTP service by name through HTTP_PROXY
// (`reviews`, 9080). In a Service that mixes both, HOST is 127.0.0.1 and only the TCP ports are
// listed (its HTTP ports are still reached by name). docs/local-mesh.md
import type { ResourceList } from "../../model/wire.ts";

export interface ServiceLink {
  name: string;
  namespace: string;
  ports: { name: string; port: number }[];
}

/** The Services of a resource listing (`GET /api/v1/resources?kind=Service`), with their ports. */
export function serviceLinks(list: ResourceList): ServiceLink[] {
  const out: ServiceLink[] = [];
  for (const item of list.items) {
    if (item.kind !== "Service") continue;
    const spec = item.body.spec as { ports?: unknown } | undefined;
    const ports: ServiceLink["ports"] = [];
    for (const p of Array.isArray(spec?.ports) ? (spec.ports as { name?: unknown; port?: unknown }[]) : []) {
      if (typeof p?.port === "number") ports.push({ name: typeof p.name === "string" ? p.name : "", port: p.port });
    }
    out.push({ name: item.name, namespace: item.namespace, ports });
  }
  return out;
}

/** `tcp-redis` → `TCP_REDIS`, as Kubernetes names the variables. */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * The variables for the Services of `namespace`. `tcpPorts` is the sidecar's outbound TCP
 * listeners, `host:port` → local port (`outboundTcpPorts` of its config).
 */
export function serviceEnv(services: readonly ServiceLink[], namespace: string, tcpPorts: Readonly<Record<string, number>>): Record<string, string> {
  // `redis.default.svc.cluster.local:6379` → `redis/default/6379`.
  const local = new Map<string, number>();
  for (const [key, port] of Object.entries(tcpPorts)) {
    const m = /^([^.]+)\.([^.]+)\.svc\.[^:]+:(\d+)$/.exec(key);
    if (m) local.set(`${m[1]}/${m[2]}/${m[3]}`, port);
  }
  const env: Record<string, string> = {};
  for (const svc of [...services].filter((s) => s.namespace === namespace).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const tcp = svc.ports.map((p) => ({ ...p, local: local.get(`${svc.name}/${svc.namespace}/${p.port}`) }));
    const anyTcp = tcp.some((p) => p.local !== undefined);
    const listed = anyTcp ? tcp.filter((p) => p.local !== undefined) : tcp;
    const first = listed[0];
    if (first === undefined) continue;
    const v = envName(svc.name);
    env[`${v}_SERVICE_HOST`] = anyTcp ? "127.0.0.1" : svc.name;
    env[`${v}_SERVICE_PORT`] = String(first.local ?? first.port);
    for (const p of listed) if (p.name) env[`${v}_SERVICE_PORT_${envName(p.name)}`] = String(p.local ?? p.port);
  }
  return env;
}
