// The control plane's side of its dashboard: the narrow view of its stores the dashboard reads
// (DashboardBackend) and the handler it mounts (DashboardFactory). Everything comes from the
// control plane's own state — the metrics store, the span store, the config store, the registry and
// the push state — never from the proxies. The dashboard itself (src/dashboard/server/) is given to
// the control plane by whoever starts it (`amime control-plane`, the local and netns runtimes):
// the dashboard runs `amime explain`, which reads the proxy's router, and the control plane never
// imports the proxy.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Diagnostic } from "../model/diagnostic.ts";
import type { Clock } from "../core/clock.ts";
import type { Service } from "../model/registry.ts";
import type { Snapshot } from "../model/snapshot.ts";
import type { ApplyResult, ControlPlaneStatus, InstanceRegistration, ProxyStatus, ResourceList } from "../model/wire.ts";
import type { ProxyConfig } from "../model/proxy-config.ts";
import type { CredentialIssuer } from "./auth/credentials.ts";
import type { DashboardSessions } from "./auth/sessions.ts";
import type { Principal } from "./auth/token.ts";
import type { InstanceRegistry } from "./registry/instance-registry.ts";
import type { ConfigStore } from "./store/config-store.ts";
import type { TelemetryService } from "./telemetry/index.ts";
import type { MetricsStore } from "./telemetry/metrics-store.ts";
import type { SpanStore } from "./telemetry/span-store.ts";

export interface DryRun {
  result: ApplyResult;
  /** Per registered proxy: the config it has now and the one it would get. */
  proxies: { node: string; before: ProxyConfig | null; after: ProxyConfig | null }[];
}

/** What the dashboard reads from the control plane: its stores, never the proxies (the UI must not load the data plane). */
export interface DashboardBackend {
  clock: Clock;
  sessions: DashboardSessions;
  /** The principal of a bearer token (the login form takes the admin token). */
  verifyToken(token: string): Principal | null;
  metrics: Pick<MetricsStore, "window" | "tcpWindow" | "history" | "intervalMs">;
  spans: Pick<SpanStore, "traces" | "trace">;
  resources(): ResourceList;
  /** Analyze messages about the config in force. */
  diagnostics(): Diagnostic[];
  proxies(): ProxyStatus[];
  instances(): InstanceRegistration[];
  services(): readonly Service[];
  status(): ControlPlaneStatus;
  /** What the control plane last pushed to a node. */
  proxyConfig(node: string): ProxyConfig | null;
  dryRun(text: string, source: string): DryRun;
  rootNamespace: string;
}

/** Answers a request the gate let through when it is the dashboard's (true), or leaves it to the API (false). */
export type DashboardHandler = (req: IncomingMessage, res: ServerResponse, principal: Principal | null) => boolean;

/** The dashboard a control plane serves (src/dashboard/server/handler.ts: createDashboardHandler). */
export type DashboardFactory = (backend: DashboardBackend) => DashboardHandler;

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
