// amime.dev/v1alpha1 Workload: a local process (or several replicas of it) that Amime starts with a
// sidecar. Field names and defaults follow the Kubernetes container and probe fields they mirror,
// so a Deployment's container section translates almost line by line. See docs/config.md.

export type RestartPolicy = "Always" | "OnFailure" | "Never";

export interface EnvVar {
  name?: string;
  value?: string;
}

export interface WorkloadPort {
  /** IANA service name (≤ 15 chars); a Service targetPort or probe may refer to it. */
  name?: string;
  /** The port the workload serves on as far as the mesh is concerned (Service targetPort). */
  containerPort?: number;
  protocol?: "TCP" | "UDP" | "SCTP";
}

export interface HTTPGetAction {
  /** Default "/". */
  path?: string;
  /** A containerPort number or the name of a declared port. */
  port?: number | string;
  /** Default HTTP. */
  scheme?: "HTTP" | "HTTPS";
}

export interface TCPSocketAction {
  port?: number | string;
}

export interface Probe {
  httpGet?: HTTPGetAction;
  tcpSocket?: TCPSocketAction;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface WorkloadSpec {
  /** Identity: spiffe://<trust-domain>/ns/<namespace>/sa/<serviceAccount>. Default "default". */
  serviceAccount?: string;
  /** Number of instances; default 1, 0 stops them all. */
  replicas?: number;
  /** Program and its first arguments, e.g. ["node", "app.ts"]. Required. */
  command?: string[];
  args?: string[];
  /** `{NAME: value}` or Kubernetes' `[{name, value}]`. */
  env?: Record<string, string> | EnvVar[];
  /** Relative paths resolve against the directory of the file that declared the Workload. */
  workingDir?: string;
  ports?: WorkloadPort[];
  readinessProbe?: Probe;
  restartPolicy?: RestartPolicy;
}

/** Probe defaults (Kubernetes'). */
export const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 } as const;

/** Environment variables Amime sets for each instance; a Workload must not set them itself. */
export const RESERVED_ENV = ["PORT"] as const;
/** Prefix of the per-port variables (`AMIME_PORT_<NAME>`) and of other Amime-provided variables. */
export const RESERVED_ENV_PREFIX = "AMIME_";

export interface ResolvedProbe {
  kind: "httpGet" | "tcpSocket";
  /** The containerPort the probe targets (names resolved). */
  port: number;
  path: string;
  scheme: "HTTP" | "HTTPS";
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
}

/** A validated Workload with every default applied: what the runtime starts. */
export interface ResolvedWorkload {
  serviceAccount: string;
  replicas: number;
  command: string[];
  args: string[];
  env: { name: string; value: string }[];
  workingDir: string | null;
  ports: { name: string; containerPort: number; protocol: "TCP" | "UDP" | "SCTP" }[];
  readinessProbe: ResolvedProbe | null;
  restartPolicy: RestartPolicy;
}

/** Apply defaults to a spec that config/kinds/workload.ts accepted (no errors). */
export function resolveWorkload(spec: WorkloadSpec): ResolvedWorkload {
  const ports = (spec.ports ?? []).map((p) => ({ name: p.name ?? "", containerPort: p.containerPort ?? 0, protocol: p.protocol ?? "TCP" }));
  const env = Array.isArray(spec.env)
    ? spec.env.map((e) => ({ name: e.name ?? "", value: e.value ?? "" }))
    : Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value }));
  return {
    serviceAccount: spec.serviceAccount || "default",
    replicas: spec.replicas ?? 1,
    command: spec.command ?? [],
    args: spec.args ?? [],
    env,
    workingDir: spec.workingDir ?? null,
    ports,
    readinessProbe: spec.readinessProbe ? resolveProbe(spec.readinessProbe, ports) : null,
    restartPolicy: spec.restartPolicy ?? "Always",
  };
}

function resolveProbe(p: Probe, ports: { name: string; containerPort: number }[]): ResolvedProbe | null {
  const action = p.httpGet ?? p.tcpSocket;
  if (!action) return null;
  const port = typeof action.port === "string" ? (ports.find((x) => x.name === action.port)?.containerPort ?? 0) : (action.port ?? 0);
  return {
    kind: p.httpGet ? "httpGet" : "tcpSocket",
    port,
    path: p.httpGet?.path ?? "/",
    scheme: p.httpGet?.scheme ?? "HTTP",
    initialDelaySeconds: p.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds,
    periodSeconds: p.periodSeconds ?? PROBE_DEFAULTS.periodSeconds,
    timeoutSeconds: p.timeoutSeconds ?? PROBE_DEFAULTS.timeoutSeconds,
    failureThreshold: p.failureThreshold ?? PROBE_DEFAULTS.failureThreshold,
    successThreshold: p.successThreshold ?? PROBE_DEFAULTS.successThreshold,
  };
}
