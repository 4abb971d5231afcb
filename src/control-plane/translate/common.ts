// Small helpers shared by the translation steps: defensive readers (translation must never throw
// on odd-but-valid input), host matching, exportTo visibility, durations.
import { parseDuration } from "../../config/defaults.ts";
import type { NodeInfo } from "../../model/proxy-config.ts";

/** What translation needs to know about the proxy beyond its NodeInfo. */
export interface ProxyInput extends NodeInfo {
  /** Registry instance of this proxy (for inbound ports); default: parsed from `id` (`sidecar~name.ns`), else `workload`. */
  instanceName?: string;
  /** Where the outbound (HTTP proxy) listener binds. Defaults: 127.0.0.1:15001. */
  outboundAddress?: string;
  outboundPort?: number;
  /**
   * Local ports of the outbound TCP listeners, keyed `host:port` (e.g. `db.default.svc.cluster.local:5432`),
   * assigned by the runtime; absent key: the service port itself. docs/protocols.md
   */
  tcpPorts?: Record<string, number>;
  /**
   * Spare local ports for outbound TCP listeners whose key is not in `tcpPorts` (the local runtime
   * sets a few aside per sidecar, as every sidecar on one host needs its own). Given: a key gets
   * the first unused one in order, and none when they are used up (the listener is left out, since
   * binding the service port itself would clash with the other sidecars). Absent: the service port.
   */
  tcpPortPool?: readonly number[];
}

export function arr<T>(v: T[] | undefined | null): T[] {
  return Array.isArray(v) ? v : [];
}

export function obj<T extends object>(v: T | undefined | null): T | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function strMap(v: unknown): Record<string, string> | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/** A protobuf Duration string in milliseconds; undefined when absent or unparsable. */
export function durationMs(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  try {
    const ms = parseDuration(v);
    return ms >= 0 ? ms : undefined;
  } catch {
    // Validation rejects bad durations; a stray one here means "unset" rather than a crash.
    return undefined;
  }
}

/** `pattern` covers `host`: equal, `*`, or a `*.suffix` wildcard whose suffix ends `host` (host may itself be a wildcard). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host || pattern === "*") return true;
  if (pattern.startsWith("*")) return host.endsWith(pattern.slice(1));
  return false;
}

/** Either host covers the other (Istio's "hosts intersect"). */
export function hostsIntersect(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** Specificity for picking between matches: an exact host beats any wildcard; longer wildcards beat shorter. */
export function hostSpecificity(pattern: string): number {
  return pattern.startsWith("*") ? pattern.length : 1_000_000;
}

/** Istio exportTo: absent/empty = `*`; `.` = own namespace; `~` = nobody; otherwise namespace names. */
export function exportedTo(exportTo: readonly string[] | undefined, ownNamespace: string, namespace: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  for (const e of exportTo) {
    if (e === "*" || e === namespace) return true;
    if (e === "." && ownNamespace === namespace) return true;
  }
  return false;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byName<T extends { name: string }>(a: T, b: T): number {
  return cmp(a.name, b.name);
}

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
