// The proxy's own limits from MeshConfig `defaultConfig.runtimeValues` (Istio's way to set Envoy
// runtime keys, src/config/mesh-config/runtime-keys.ts): the proxy-wide downstream connection
// limit, per-listener connection limits and the HTTP/1.1 request-head timeout. docs/resilience.md
import { connectionLimitListener, GLOBAL_DOWNSTREAM_MAX_CONNECTIONS, REQUEST_HEADERS_TIMEOUT_MS, runtimeInteger } from "../../config/mesh-config/runtime-keys.ts";
import type { Listener, ProxyConfig } from "../../model/proxy-config.ts";
import type { MeshSettings } from "../../model/snapshot.ts";

/** Istio's bootstrap sets overload.global_downstream_max_connections to 2147483647 (no practical limit). */
export const ISTIO_GLOBAL_DOWNSTREAM_MAX_CONNECTIONS = 2147483647;

/**
 * Envoy leaves request_headers_timeout off and Istio does not set it; Amime sets Envoy's edge
 * best-practice value (10 s) on every HTTP listener, so a client that sends half a request head
 * and stops does not hold a connection for the whole idle timeout (docs/resilience.md says why).
 */
export const DEFAULT_REQUEST_HEADERS_TIMEOUT_MS = 10_000;

export function proxyRuntime(config: ProxyConfig, mesh: Readonly<MeshSettings>): void {
  const rv = mesh.config?.defaultConfig?.runtimeValues ?? {};
  const num = (key: string): number | null => (typeof rv[key] === "string" ? runtimeInteger(rv[key]) : null);
  config.overload = { globalDownstreamMaxConnections: num(GLOBAL_DOWNSTREAM_MAX_CONNECTIONS) ?? ISTIO_GLOBAL_DOWNSTREAM_MAX_CONNECTIONS };
  const headersMs = num(REQUEST_HEADERS_TIMEOUT_MS) ?? DEFAULT_REQUEST_HEADERS_TIMEOUT_MS;
  const limits = new Map<string, number>();
  for (const key of Object.keys(rv)) {
    const name = connectionLimitListener(key);
    const n = name === null ? null : num(key);
    if (name !== null && n !== null) limits.set(name, n);
  }
  config.listeners = config.listeners.map((l): Listener => {
    const out: Listener = { ...l };
    if (l.protocol !== "tcp" && headersMs > 0) out.requestHeadersTimeoutMs = headersMs;
    const limit = limits.get(l.name);
    if (limit !== undefined) out.connectionLimit = limit;
    return out;
  });
}
