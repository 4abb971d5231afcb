// A sidecar in its pod, as Istio's injector and istio-iptables agree on it, wherever the pod runs
// (the netns runtime, an injected Kubernetes pod, `amime capture`): the proxy's UID/GID, the
// ports of its listeners, the range reserved for it, and the `traffic.sidecar.istio.io/*`
// annotations that change what is captured. Pure: the runtime writes the rules
// (runtime/netns/capture-rules.ts), the injector the pod (control-plane/webhook/inject/).

export const PROXY_UID = 1337;
export const PROXY_GID = 1337;
export const OUTBOUND_CAPTURE_PORT = 15001;
export const INBOUND_CAPTURE_PORT = 15006;
/** A pod's second declared port gets the sidecar inbound listener 15101, the third 15102… (no SO_ORIGINAL_DST: one listener per port). */
export const INBOUND_EXTRA_BASE = 15100;

/** The sidecar inbound listener of a pod's k-th declared port (0-based). */
export function inboundListenerPort(k: number): number {
  return k === 0 ? INBOUND_CAPTURE_PORT : INBOUND_EXTRA_BASE + k;
}
/** The sidecar's admin listener: 127.0.0.1 in injected pods, the pod IP (host only) in the netns runtime. */
export const ADMIN_PORT = 15000;
/** Istio's status port (read-only /healthz/ready: the kubelet's probes) and Envoy's Prometheus port. */
export const STATUS_PORT = 15021;
export const PROMETHEUS_PORT = 15090;
/** What any peer may reach of the sidecar itself, never redirected (istio-iptables excludes 15020, 15021, 15090 from inbound capture). */
export const READ_ONLY_PORTS: readonly number[] = [STATUS_PORT, PROMETHEUS_PORT];
/** Ports inside a pod: Istio's. A declared port in this range would clash with the sidecar. */
export const RESERVED_PORTS = { first: 15000, last: 15399 };

/** Istio's capture annotations, read from a Workload's metadata.annotations. */
export interface CaptureAnnotations {
  excludeOutboundPorts: number[];
  excludeInboundPorts: number[];
  excludeOutboundIPRanges: string[];
  /** null: not set or `*` (capture every address); a list, possibly empty (capture none). */
  includeOutboundIPRanges: string[] | null;
}

export class CaptureAnnotationError extends Error {
  readonly code = "AMIME_NETNS_ANNOTATION";
}

const ANNOTATION = "traffic.sidecar.istio.io/";

/** Parse the comma-separated annotation values; a bad value is an error naming the annotation. */
export function captureAnnotations(annotations: Readonly<Record<string, string>>, origin: string): CaptureAnnotations {
  const ports = (key: string): number[] => {
    const v = annotations[ANNOTATION + key];
    if (v === undefined || v.trim() === "") return [];
    return v.split(",").map((s) => {
      const t = s.trim();
      const n = Number(t);
      if (!/^\d+$/.test(t) || n < 1 || n > 65535) throw new CaptureAnnotationError(`${origin}: metadata.annotations["${ANNOTATION}${key}"]: "${t}" is not a port (1-65535)`);
      return n;
    });
  };
  const cidrs = (key: string, v: string): string[] => {
    const ranges = v.trim() === "" ? [] : v.split(",").map((s) => s.trim());
    for (const r of ranges) {
      if (!isCidr(r)) throw new CaptureAnnotationError(`${origin}: metadata.annotations["${ANNOTATION}${key}"]: "${r}" is not an IPv4 CIDR (a.b.c.d/n)`);
    }
    return ranges;
  };
  const include = annotations[`${ANNOTATION}includeOutboundIPRanges`];
  return {
    excludeOutboundPorts: ports("excludeOutboundPorts"),
    excludeInboundPorts: ports("excludeInboundPorts"),
    excludeOutboundIPRanges: cidrs("excludeOutboundIPRanges", annotations[`${ANNOTATION}excludeOutboundIPRanges`] ?? ""),
    // As istio-iptables -i: "*" captures every address, an empty value none.
    includeOutboundIPRanges: include === undefined || include.trim() === "*" ? null : cidrs("includeOutboundIPRanges", include),
  };
}

function isCidr(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (!m) return false;
  return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}
