// Stage: upstream health. Active health checking per cluster: sessions per host on an injected
// Clock, HTTP and TCP probes, thresholds as Envoy's. Configured by amime.dev/health-check.
export { HealthChecker, type HealthCheckStats, type HealthCheckerOptions } from "./health-checker.ts";
export { HostHealth, type HealthOutcome, type HealthTransition } from "./host-health.ts";
export { httpProbe, tcpProbe, probeFor, type Probe, type ProbeTarget } from "./probe.ts";
