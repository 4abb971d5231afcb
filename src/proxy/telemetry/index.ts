// Stage: the sidecar's observability — Istio standard metrics (metrics/), access logs
// (access-log/) and tracing (tracing/), fed by the request path's TelemetryHooks and served on
// the metrics listener. Nothing here runs unless the ProxyConfig has `telemetry`.
export { SidecarTelemetry } from "./sidecar-telemetry.ts";
export { PEER_HEADER, decodePeer, encodePeer, identityOf, type PeerIdentity } from "./peer.ts";
export { DEFAULT_METRICS_PORT } from "./settings.ts";
