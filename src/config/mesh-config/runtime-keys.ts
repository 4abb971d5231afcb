// The Envoy runtime keys (MeshConfig `defaultConfig.runtimeValues`, Istio's way to set Envoy
// runtime flags) that Amime applies, and how their string values read. Pure: validation warns
// about every other key (AMM1010), translation turns these into proxy config.

/** Envoy overload manager: open downstream connections across all listeners. */
export const GLOBAL_DOWNSTREAM_MAX_CONNECTIONS = "overload.global_downstream_max_connections";

/**
 * Amime's key for Envoy's HCM `request_headers_timeout` (Istio has no field for it; Envoy no
 * runtime key): ms an HTTP/1.1 request head may take from its first byte; 0 = off.
 */
export const REQUEST_HEADERS_TIMEOUT_MS = "amime.request_headers_timeout_ms";

/** Envoy's per-listener limit: `envoy.resource_limits.listener.<listener name>.connection_limit`. */
const LISTENER_CONNECTION_LIMIT = /^envoy\.resource_limits\.listener\.(.+)\.connection_limit$/;

/** The listener a per-listener connection limit key names, or null. */
export function connectionLimitListener(key: string): string | null {
  return LISTENER_CONNECTION_LIMIT.exec(key)?.[1] ?? null;
}

export function isAppliedRuntimeKey(key: string): boolean {
  return key === GLOBAL_DOWNSTREAM_MAX_CONNECTIONS || key === REQUEST_HEADERS_TIMEOUT_MS || connectionLimitListener(key) !== null;
}

/** The value of an applied key: a non-negative integer written in decimal, else null. */
export function runtimeInteger(value: string): number | null {
  if (!/^\d{1,15}$/.test(value.trim())) return null;
  return Number(value.trim());
}
