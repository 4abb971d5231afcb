// The control plane's side of the dashboard: the narrow view of its stores the dashboard handler
// reads (src/dashboard/server/backend.ts). Everything comes from the control plane's own state —
// the metrics store, the span store, the config store, the registry and the push state — never
// from the proxies.
import type { DashboardBackend, DryRun } from "../dashboard/server/backend.ts";
import type { CredentialIssuer } from "./auth/credentials.ts";
import type { ControlPlane } from "./server.ts";

export type { DryRun };

export function dashboardBackendOf(cp: ControlPlane, issuer: CredentialIssuer): DashboardBackend {
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
