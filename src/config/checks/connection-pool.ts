// ConnectionPoolSettings (DestinationRule traffic policies, Sidecar inbound pools).
import type { FieldPath } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { checkDuration } from "./duration.ts";
import { checkKnownFields } from "./fields.ts";
import { readBool, readEnum, readInt, readObject, UINT32 } from "./shape.ts";

export function checkConnectionPool(v: Validator, path: FieldPath, x: unknown): void {
  const obj = readObject(v, path, x);
  if (!obj) return;
  checkKnownFields(v, path, obj, ["tcp", "http"]);
  const http = readObject(v, [...path, "http"], obj.http);
  const tcp = readObject(v, [...path, "tcp"], obj.tcp);
  if (!http && !tcp) {
    v.error(path, "connection pool must have at least one field");
    return;
  }
  const nonNegative = (at: FieldPath, val: unknown, what: string): number | undefined => {
    const n = readInt(v, at, val);
    if (n !== undefined && n < 0) v.error(at, `${what} must be non-negative`);
    return n;
  };
  if (http) {
    const at = [...path, "http"];
    checkKnownFields(v, at, http, [
      "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries", "idleTimeout",
      "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams", "http2KeepAlive",
    ]);
    nonNegative([...at, "http1MaxPendingRequests"], http.http1MaxPendingRequests, "http1 max pending requests");
    nonNegative([...at, "http2MaxRequests"], http.http2MaxRequests, "http2 max requests");
    nonNegative([...at, "maxRequestsPerConnection"], http.maxRequestsPerConnection, "max requests per connection");
    nonNegative([...at, "maxRetries"], http.maxRetries, "max retries");
    nonNegative([...at, "maxConcurrentStreams"], http.maxConcurrentStreams, "max concurrent streams");
    if (http.idleTimeout != null) checkDuration(v, [...at, "idleTimeout"], http.idleTimeout);
    const upgrade = readEnum(v, [...at, "h2UpgradePolicy"], http.h2UpgradePolicy, ["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"]);
    const useClient = readBool(v, [...at, "useClientProtocol"], http.useClientProtocol);
    if (upgrade === "UPGRADE" && useClient) v.error(at, "use client protocol must not be true when H2UpgradePolicy is UPGRADE");
    const ka = readObject(v, [...at, "http2KeepAlive"], http.http2KeepAlive);
    if (ka) {
      checkKnownFields(v, [...at, "http2KeepAlive"], ka, ["interval", "timeout"]);
      for (const f of ["interval", "timeout"] as const) {
        if (ka[f] == null) v.error([...at, "http2KeepAlive", f], `Required value: http2 keepalive ${f} is required`);
        else checkDuration(v, [...at, "http2KeepAlive", f], ka[f]);
      }
    }
  }
  if (tcp) {
    const at = [...path, "tcp"];
    checkKnownFields(v, at, tcp, ["maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration", "idleTimeout"]);
    nonNegative([...at, "maxConnections"], tcp.maxConnections, "max connections");
    if (tcp.connectTimeout != null) checkDuration(v, [...at, "connectTimeout"], tcp.connectTimeout);
    if (tcp.maxConnectionDuration != null) checkDuration(v, [...at, "maxConnectionDuration"], tcp.maxConnectionDuration);
    // tcp.idleTimeout "0s" disables the idle timeout.
    if (tcp.idleTimeout != null) checkDuration(v, [...at, "idleTimeout"], tcp.idleTimeout, { allowZero: true });
    const ka = readObject(v, [...at, "tcpKeepalive"], tcp.tcpKeepalive);
    if (ka) {
      checkKnownFields(v, [...at, "tcpKeepalive"], ka, ["probes", "time", "interval"]);
      readInt(v, [...at, "tcpKeepalive", "probes"], ka.probes, UINT32);
      if (ka.time != null) checkDuration(v, [...at, "tcpKeepalive", "time"], ka.time);
      if (ka.interval != null) checkDuration(v, [...at, "tcpKeepalive", "interval"], ka.interval);
    }
  }
}
