// The control plane's side of the dashboard: the narrow view of its stores the dashboard handler
// reads (src/dashboard/server/backend.ts). Everything comes from the control plane's own state —
// the metrics store, the span store, the config store, the registry and the push state — never
// from the proxies.
import type { DashboardBackend, DryRun } from "../dashboard/server/backend.ts";
import type { Snapshot } from "../model/snapshot.ts";
import type { ControlPlaneStatus, ProxyStatus, ResourceList } from "../model/wire.ts";
import type { ProxyConfig } from "../model/proxy-config.ts";
import type { CredentialIssuer } from "./auth/credentials.ts";
import type { InstanceRegistry } from "./registry/instance-registry.ts";
import type { ConfigStore } from "./store/config-store.ts";
import type { TelemetryService } from "./telemetry/index.ts";

export type { DryRun };

/** The parts of the control plane (server.ts) the dashboard reads. */
export interface DashboardSource extends Pick<DashboardBackend, "clock" | "sessions"> {
  readonly telemetry: Pick<TelemetryService, "metrics" | "spans">;
  readonly store: Pick<ConfigStore, "analyzeCurrent">;
  readonly registry: Pick<InstanceRegistry, "list">;
  resources(): ResourceList;
  proxies(): ProxyStatus[];
  snapshot(): Snapshot;
  status(): ControlPlaneStatus;
  proxyConfig(node: string): ProxyConfig | null;
  dryRun(text: string, source: string): DryRun;
}

export function dashboardBackendOf(cp: DashboardSource, issuer: CredentialIssuer): DashboardBackend {
  return {
    clock: cp.clock,
    sessions: cp.sessions,
    verifyToken: (t) => issuer.verify(t),
    metrics: cp.telemetry.metrics,
    spans: cp.telemetry.spans,
    resources: () => cp.resources(),
    diagnostics: () => cp.store.analyzeCurrent(),
    proxies: () => cp.proxies(),
    instances: () => cp.registry.list(),
    services: () => cp.snapshot().services,
    status: () => cp.status(),
    proxyConfig: (node) => cp.proxyConfig(node),
    dryRun: (text, source) => cp.dryRun(text, source),
    get rootNamespace() {
      return cp.snapshot().mesh.rootNamespace;
    },
  };
}
