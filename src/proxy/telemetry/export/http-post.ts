// One POST of an export body (OTLP/HTTP, Zipkin v2) and what it came to for the retry loop:
// 2xx is accepted; no connection, a timeout, a cut-off answer, 429, 502, 503 and 504 are worth
// retrying (OTLP/HTTP's retryable answers); anything else failed for good. Sent by the proxy's
// own client (small-http: no node:http), on a connection kept per collector and credentials.
import type { SecureContext } from "node:tls";
import { tlsModule } from "../../../core/builtins.ts";
import { SmallHttpClient } from "../../small-http/index.ts";
import { defaultTrustCa, defaultTrustContext, defaultTrustContextWith } from "../../tls/default-trust.ts";
import type { SendOutcome } from "./batch-exporter.ts";
import type { CollectorTls } from "./collector-tls.ts";

const RETRYABLE = new Set([429, 502, 503, 504]);
const clientContexts = new WeakMap<CollectorTls, SecureContext>();
/** One client for every export of the sidecar: connections kept per collector (and TLS credentials). */
const client = new SmallHttpClient();

export interface PostTarget {
  endpoint: string;
  /** Extra request headers (vendor auth: an access token, an API key). */
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Roots trusted besides the default trust for an https endpoint. */
  meshRoots?: (() => string | undefined) | undefined;
}

/**
 * Node TLS options for an https endpoint: the collector TLS the config gives (its CA replaces the
 * default trust), else the default trust plus the mesh's roots. The default trust is the system CA
 * bundle (../../tls/default-trust.ts); without one this throws and the POST fails.
 */
function tlsOptions(t: PostTarget, tls: CollectorTls | null): Record<string, unknown> {
  if (tls !== null) {
    const verify = tls.insecureSkipVerify !== true;
    const own = { ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}), ...(tls.servername ? { servername: tls.servername } : {}), rejectUnauthorized: verify };
    if (tls.ca) return { ...own, ca: tls.ca };
    if (!verify) return own;
    if (!tls.cert) return { ...own, secureContext: defaultTrustContext() };
    // A client certificate with the default trust: one context per collector TLS (read once), not the bundle's PEM in every request's options.
    let context = clientContexts.get(tls);
    if (context === undefined) {
      context = tlsModule().createSecureContext({ cert: tls.cert, ...(tls.key ? { key: tls.key } : {}), ca: [...defaultTrustCa()] });
      clientContexts.set(tls, context);
    }
    return { ...(tls.servername ? { servername: tls.servername } : {}), rejectUnauthorized: true, secureContext: context };
  }
  const roots = t.meshRoots?.();
  return { secureContext: roots !== undefined ? defaultTrustContextWith(roots) : defaultTrustContext() };
}

/** Names the credentials an https connection was made with: only a POST with the same ones reuses it. */
function poolKey(t: PostTarget, tls: CollectorTls | null): string {
  if (tls !== null) return JSON.stringify([tls.ca, tls.cert, tls.key, tls.servername, tls.insecureSkipVerify]);
  const roots = t.meshRoots?.();
  return roots !== undefined ? `mesh ${roots}` : "default";
}

/** One POST; `tls` applies to an https endpoint (null: the default trust and the mesh's roots). */
export async function postBody(t: PostTarget, body: string | Uint8Array, contentType: string, tls: CollectorTls | null = null): Promise<SendOutcome> {
  let url: URL;
  let secure: { options: Record<string, unknown>; key: string };
  try {
    url = new URL(t.endpoint);
    secure = url.protocol === "https:" ? { options: tlsOptions(t, tls), key: poolKey(t, tls) } : { options: {}, key: "" };
  } catch {
    // A bad endpoint, or no default trust to verify the collector with.
    return "fail";
  }
  try {
    const res = await client.request(url, { method: "POST", headers: { ...t.headers, "content-type": contentType }, body, timeoutMs: t.timeoutMs, tls: secure.options, poolKey: secure.key });
    const code = res.status;
    return code >= 200 && code < 300 ? "ok" : RETRYABLE.has(code) ? "retry" : "fail";
  } catch (e) {
    // A header value with a line break (the control plane checks them; an environment variable may
    // still hold one) fails for good; no connection, a timeout or a cut-off answer is worth retrying.
    return (e as { code?: string }).code === "E_BAD_REQUEST" ? "fail" : "retry";
  }
}

/** postBody with TLS files read first (`tls` null: none configured); a file that cannot be read fails the export. */
export async function postWithTls(t: PostTarget, body: string | Uint8Array, contentType: string, tls: (() => Promise<CollectorTls>) | null): Promise<SendOutcome> {
  let read: CollectorTls | null;
  try {
    read = tls === null ? null : await tls();
  } catch {
    return "fail";
  }
  return postBody(t, body, contentType, read);
}

/** Collector headers with `envName` values read from the proxy's environment (an unset variable sends no header). */
export function resolveHeaders(list: readonly { name: string; value?: string; envName?: string }[] | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list ?? []) {
    const v = h.value ?? (h.envName !== undefined ? env[h.envName] : undefined);
    if (v !== undefined) out[h.name.toLowerCase()] = v;
  }
  return out;
}
