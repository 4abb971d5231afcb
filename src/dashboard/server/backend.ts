// What the dashboard reads from the control plane: its stores, never the proxies (the UI must not
// load the data plane). A narrow view, so the handler does not hold the whole ControlPlane.
import type { Diagnostic } from "../../config/diagnostic.ts";
import type { Clock } from "../../core/clock.ts";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import type { Service } from "../../model/registry.ts";
import type { ApplyResult, ControlPlaneStatus, InstanceRegistration, ProxyStatus, ResourceList } from "../../model/wire.ts";
import type { Principal } from "../../control-plane/auth/token.ts";
import type { DashboardSessions } from "../../control-plane/auth/sessions.ts";
import type { MetricsStore } from "../../control-plane/telemetry/metrics-store.ts";
import type { SpanStore } from "../../control-plane/telemetry/span-store.ts";

export interface DryRun {
  result: ApplyResult;
  /** Per registered proxy: the config it has now and the one it would get. */
  proxies: { node: string; before: ProxyConfig | null; after: ProxyConfig | null }[];
}

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
