// What the admin endpoints show, built from the live runtime: /clusters as JSON and /stats as
// Envoy-style `name: value` lines (cluster.<name>.upstream_rq_total, http.downstream_rq_total…).
import { isHostHealthy } from "../upstream/balance/balancer.ts";
import type { ProxyContext, Runtime } from "../request/context.ts";

/** What /clusters and /stats read. */
export interface AdminStatsSource {
  readonly config: { readonly version: string };
  readonly runtime: Runtime;
  readonly ctx: Pick<ProxyContext, "downstream" | "filterStats">;
  readonly isReady: boolean;
  listenerStats(): readonly { name: string; port: number; activeConnections: number; downstream_cx_overflow: number; downstream_global_cx_overflow: number; sslHandshakes?: number; sslErrors?: number; sslSessionReused?: number }[];
}

export function clustersJson(s: AdminStatsSource): unknown {
  const clusters = [];
  for (const c of s.runtime.clusters.views()) {
    clusters.push({
      name: c.name,
      lb: c.config.lb.policy,
      panic: c.hostSet.panic,
      stats: { ...c.stats },
      outlier: c.outlier !== null ? { ...c.outlier.stats } : undefined,
      healthCheck: c.healthChecker !== null ? { config: c.healthChecker.config, stats: { ...c.healthChecker.stats } } : undefined,
      hosts: c.hostSet.hosts.map((h) => {
        const pool = c.poolFor(h);
        return {
          address: h.address,
          port: h.port,
          weight: h.weight,
          healthy: isHostHealthy(h),
          registryHealthy: h.registryHealthy,
          outlierEjected: h.outlierEjected,
          healthCheckFailed: h.healthCheckFailed,
          activeRequests: h.activeRequests,
          connections: pool === undefined ? { total: 0, idle: 0 } : { total: pool.total, idle: pool.idleCount },
          outlierState: c.outlier !== null ? c.outlier.state(h) : undefined,
          healthCheckState: c.healthChecker?.state(h),
          labels: h.endpoint.labels,
        };
      }),
    });
  }
  return { version: s.config.version, clusters };
}

export function statsText(s: AdminStatsSource): string {
  const lines: string[] = [];
  for (const c of s.runtime.clusters.views()) {
    const p = `cluster.${c.name}.`;
    for (const [k, v] of Object.entries(c.stats)) lines.push(`${p}${k}: ${v}`);
    lines.push(`${p}membership_total: ${c.hostSet.hosts.length}`);
    lines.push(`${p}membership_healthy: ${c.hostSet.healthyCount()}`);
    if (c.outlier !== null) for (const [k, v] of Object.entries(c.outlier.stats)) lines.push(`${p}outlier_detection.${k}: ${v}`);
    if (c.healthChecker !== null) for (const [k, v] of Object.entries(c.healthChecker.stats)) lines.push(`${p}health_check.${k}: ${v}`);
  }
  for (const [k, v] of Object.entries(s.ctx.downstream)) lines.push(`http.${k}: ${v}`);
  for (const [k, v] of s.ctx.filterStats.entries()) lines.push(`${k}: ${v}`);
  for (const l of s.listenerStats()) {
    lines.push(`listener.${l.name}.downstream_cx_active: ${l.activeConnections}`);
    lines.push(`listener.${l.name}.downstream_cx_overflow: ${l.downstream_cx_overflow}`);
    lines.push(`listener.${l.name}.downstream_global_cx_overflow: ${l.downstream_global_cx_overflow}`);
    if (l.sslHandshakes !== undefined) lines.push(`listener.${l.name}.ssl.handshake: ${l.sslHandshakes}`, `listener.${l.name}.ssl.connection_error: ${l.sslErrors ?? 0}`, `listener.${l.name}.ssl.session_reused: ${l.sslSessionReused ?? 0}`);
  }
  lines.push(`server.live: ${s.isReady ? 1 : 0}`);
  lines.push(`server.config_version: ${s.config.version}`);
  lines.sort();
  return lines.join("\n") + "\n";
}
