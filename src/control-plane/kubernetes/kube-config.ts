// Where the Kubernetes API server is and how to authenticate to it, found as kubectl finds it:
// --kubeconfig FILE, else $KUBECONFIG (its first file), else ~/.kube/config, else the in-cluster
// service account (KUBERNETES_SERVICE_HOST/PORT and /var/run/secrets/kubernetes.io/serviceaccount).
// Supports what clusters hand out for a service or a CI user: a bearer token (inline or a file),
// a client certificate and key (inline or files), the cluster CA (inline or a file) or
// insecure-skip-tls-verify. Exec and auth-provider plugins are refused with a clear error.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";

const IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A kubeconfig that cannot be used (layer: control plane, Kubernetes platform). */
export class KubeConfigError extends Error {
  readonly code = "CP_KUBECONFIG";
  constructor(message: string) {
    super(message);
    this.name = "KubeConfigError";
  }
}

export interface KubeConnection {
  /** https://host:port (no trailing slash). */
  server: string;
  ca?: string;
  insecure: boolean;
  /** Read on every request when it comes from a file (service-account tokens are rotated). */
  token?: () => string;
  cert?: string;
  key?: string;
  /** Where it came from, for logs: the kubeconfig path and context, or `in-cluster`. */
  origin: string;
}

/**
 * kubectl's lookup: the flag, $KUBECONFIG, ~/.kube/config, in-cluster; `context` (kubectl's
 * `--context`) picks a context of the file other than its current-context.
 */
export function findKubeConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, context?: string): KubeConnection {
  if (flag !== undefined) return fromFile(resolve(flag), context);
  const fromEnv = env.KUBECONFIG?.split(":").find((p) => p !== "");
  if (fromEnv !== undefined) return fromFile(resolve(fromEnv), context);
  const home = join(env.HOME ?? homedir(), ".kube", "config");
  if (existsSync(home)) return fromFile(home, context);
  if (context !== undefined) throw new KubeConfigError(`--context ${context}: no kubeconfig to find it in (pass --kubeconfig FILE, set $KUBECONFIG or create ~/.kube/config)`);
  if (env.KUBERNETES_SERVICE_HOST !== undefined) return inCluster(env);
  throw new KubeConfigError("no kubeconfig: pass --kubeconfig FILE, set $KUBECONFIG, create ~/.kube/config, or run in a pod");
}

function inCluster(env: NodeJS.ProcessEnv): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const tokenFile = join(IN_CLUSTER_DIR, "token");
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(IN_CLUSTER_DIR, "ca.crt"), "utf8"),
    insecure: false,
    token: () => readFileSync(tokenFile, "utf8").trim(),
    origin: "in-cluster",
  };
}

interface Named<T> {
  name?: string;
  [k: string]: unknown;
  value?: T;
}

function fromFile(path: string, contextFlag?: string): KubeConnection {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${(e as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new KubeConfigError(`${path}: not YAML: ${(e as Error).message}`);
  }
  const base = dirname(path);
  const contextName = contextFlag ?? doc["current-context"];
  if (typeof contextName !== "string" || contextName === "") throw new KubeConfigError(`${path}: current-context: not set (or pass --context NAME)`);
  const context = named(doc.contexts, "context", contextName, path);
  const cluster = named(doc.clusters, "cluster", String(context.cluster ?? ""), path);
  const user = context.user === undefined ? {} : named(doc.users, "user", String(context.user), path);
  if (typeof cluster.server !== "string") throw new KubeConfigError(`${path}: clusters[${context.cluster}].cluster.server: not set`);
  if (user.exec !== undefined || user["auth-provider"] !== undefined) {
    throw new KubeConfigError(`${path}: users[${context.user}]: exec and auth-provider credential plugins are not supported; use a token or a client certificate`);
  }
  const out: KubeConnection = { server: cluster.server.replace(/\/+$/, ""), insecure: cluster["insecure-skip-tls-verify"] === true, origin: `${path} (context ${contextName})` };
  const ca = dataOrFile(cluster, "certificate-authority", base);
  if (ca !== undefined) out.ca = ca;
  const cert = dataOrFile(user, "client-certificate", base);
  const key = dataOrFile(user, "client-key", base);
  if (cert !== undefined) out.cert = cert;
  if (key !== undefined) out.key = key;
  if (typeof user.token === "string") {
    const token = user.token;
    out.token = () => token;
  } else if (typeof user.tokenFile === "string") {
    const file = resolve(base, user.tokenFile);
    out.token = () => readFileSync(file, "utf8").trim();
  }
  return out;
}

function named(list: unknown, field: string, name: string, path: string): Record<string, unknown> {
  const found = Array.isArray(list) ? (list as Named<unknown>[]).find((e) => e?.name === name) : undefined;
  const value = found?.[field];
  if (typeof value !== "object" || value === null) throw new KubeConfigError(`${path}: no ${field} named ${JSON.stringify(name)}`);
  return value as Record<string, unknown>;
}

/** `<field>-data` (base64) or `<field>` (a file, relative to the kubeconfig's directory). */
function dataOrFile(section: Record<string, unknown>, field: string, base: string): string | undefined {
  const data = section[`${field}-data`];
  if (typeof data === "string") return Buffer.from(data, "base64").toString("utf8");
  const file = section[field];
  if (typeof file === "string") return readFileSync(resolve(base, file), "utf8");
  return undefined;
}

/**
 * Why a request to the API server failed, for a CLI's one-line error: the server and where its
 * address came from, then what it answered (`GET …: 401 Unauthorized`) or why it could not be
 * reached (connection refused, TLS: a certificate the kubeconfig's CA does not vouch for).
 */
export function apiServerFailure(conn: KubeConnection, e: unknown, answered: boolean): string {
  const why = (e as Error).message;
  return answered ? `the Kubernetes API server ${conn.server} (${conn.origin}) refused: ${why}` : `cannot reach the Kubernetes API server ${conn.server} (${conn.origin}): ${why}`;
}
