// The control plane's own Prometheus metrics (`GET /metrics`, admin credential), as istiod's
// monitoring port: whether this replica leads (as client-go's leader-election gauge
// `leader_election_master_status`), how many proxies are connected (istiod's `pilot_xds`) and what
// the push loop sent (`pilot_xds_pushes`, `pilot_total_xds_rejects`). docs/observability.md.
import type { PushCounters } from "../../model/wire.ts";

export interface ControlPlaneMetricsView {
  /** This replica's name in the leader election; null without `--store` (no election). */
  replica: string | null;
  /** It does the work that must happen once: the elected leader, or a control plane without replicas. */
  leading: boolean;
  connectedProxies: number;
  push: PushCounters;
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function controlPlaneMetrics(v: ControlPlaneMetricsView): string {
  const out: string[] = [];
  const family = (name: string, type: "gauge" | "counter", help: string, samples: [string, number][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`);
  };
  const replica = v.replica === null ? "" : `{replica="${escapeLabel(v.replica)}"}`;
  family("amime_control_plane_leader", "gauge", "1 when this control plane does the work that must happen once (the elected leader among replicas on etcd, or a control plane without replicas), else 0.", [[replica, v.leading ? 1 : 0]]);
  family("amime_control_plane_xds_connected", "gauge", "Proxies with an open push stream to this control plane.", [["", v.connectedProxies]]);
  const p = v.push;
  family("amime_control_plane_xds_pushes_total", "counter", "Push messages sent: whole configs, delta full states, deltas.", [['{type="config"}', p.configs], ['{type="full_state"}', p.fullStates], ['{type="delta"}', p.deltas]]);
  family("amime_control_plane_xds_rejects_total", "counter", "NACKs received from proxies.", [["", p.rejects]]);
  return out.join("\n") + "\n";
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
