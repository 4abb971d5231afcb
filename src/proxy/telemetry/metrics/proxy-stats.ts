// The proxy's own counters (H's ClusterStats, DownstreamStats, outlier stats, listeners) in
// Prometheus form, named as Envoy's /stats/prometheus names them (`envoy_cluster_<stat>` with a
// cluster_name label), so Istio dashboards that read Envoy stats keep working. `*_active` values
// and membership are gauges; everything else counts up.
import type { ProxyConfig } from "../../../model/proxy-config.ts";
import type { ProxyContext, Runtime } from "../../request/context.ts";
import { escapeLabelValue, metricName, type PrometheusWriter } from "./prometheus-text.ts";

type Family = { type: "counter" | "gauge"; help: string; samples: [string, number][] };

function isGauge(stat: string): boolean {
  return stat.endsWith("_active") || stat.startsWith("membership_");
}

/** What the proxy stats are read from (the Sidecar, seen narrowly). */
export interface ProxyStatsSource {
  readonly config: ProxyConfig;
  readonly runtime: Runtime;
  readonly ctx: Pick<ProxyContext, "downstream">;
  readonly isReady: boolean;
  listenerStats(): readonly { name: string; port: number; activeConnections: number; downstream_cx_overflow: number; downstream_global_cx_overflow: number }[];
}

export function renderProxyStats(s: ProxyStatsSource, w: PrometheusWriter): void {
  const fam = new Map<string, Family>();
  const add = (name: string, type: Family["type"], help: string, labels: string, v: number): void => {
    let f = fam.get(name);
    if (f === undefined) {
      f = { type, help, samples: [] };
      fam.set(name, f);
    }
    f.samples.push([labels, v]);
  };
  for (const c of s.runtime.clusters.views()) {
    const l = `cluster_name="${escapeLabelValue(c.name)}"`;
    for (const [k, v] of Object.entries(c.stats)) {
      if (typeof v !== "number") continue;
      add(metricName(`envoy_cluster_${k}`), isGauge(k) ? "gauge" : "counter", `Envoy cluster stat ${k}.`, l, v);
    }
    add("envoy_cluster_membership_total", "gauge", "Endpoints of the cluster.", l, c.hostSet.hosts.length);
    add("envoy_cluster_membership_healthy", "gauge", "Healthy endpoints of the cluster.", l, c.hostSet.healthyCount());
    if (c.outlier !== null) {
      for (const [k, v] of Object.entries(c.outlier.stats)) {
        if (typeof v !== "number") continue;
        add(metricName(`envoy_cluster_outlier_detection_${k}`), isGauge(k) ? "gauge" : "counter", `Envoy outlier detection stat ${k}.`, l, v);
      }
    }
  }
  for (const [k, v] of Object.entries(s.ctx.downstream)) {
    if (typeof v !== "number") continue;
    add(metricName(`envoy_http_${k}`), isGauge(k) ? "gauge" : "counter", `Envoy HTTP connection manager stat ${k}.`, "", v);
  }
  for (const l of s.listenerStats()) {
    const ln = `listener_name="${escapeLabelValue(l.name)}"`;
    add("envoy_listener_downstream_cx_active", "gauge", "Open downstream connections per listener.", ln, l.activeConnections);
    add("envoy_listener_downstream_cx_overflow", "counter", "Connections refused by the listener's connection limit.", ln, l.downstream_cx_overflow);
    add("envoy_listener_downstream_global_cx_overflow", "counter", "Connections refused by the proxy-wide connection limit.", ln, l.downstream_global_cx_overflow);
  }
  for (const [name, f] of fam) {
    w.header(name, f.type, f.help);
    for (const [labels, v] of f.samples) w.sample(name, labels, v);
  }
  w.header("envoy_server_live", "gauge", "1 when the proxy is ready and not draining.");
  w.sample("envoy_server_live", "", s.isReady ? 1 : 0);
  w.header("amime_proxy_config_info", "gauge", "The config version the proxy runs (value always 1).");
  w.sample("amime_proxy_config_info", `version="${escapeLabelValue(s.config.version)}"`, 1);
  const numeric = Number(s.config.version);
  if (Number.isFinite(numeric)) {
    w.header("amime_proxy_config_version", "gauge", "The config version the proxy runs, when it is a number.");
    w.sample("amime_proxy_config_version", "", numeric);
  }
}
