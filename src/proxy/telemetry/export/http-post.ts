// One POST of an export body (OTLP/HTTP, Zipkin v2) and what it came to for the retry loop:
// 2xx is accepted; no connection, a timeout, a cut-off answer, 429, 502, 503 and 504 are worth
// retrying (OTLP/HTTP's retryable answers); anything else failed for good.
import type { SecureContext } from "node:tls";
import { http, httpsModule, tlsModule } from "../../../core/builtins.ts";
import { defaultTrustCa, defaultTrustContext, defaultTrustContextWith } from "../../tls/default-trust.ts";
import type { SendOutcome } from "./batch-exporter.ts";
import type { CollectorTls } from "./collector-tls.ts";

const RETRYABLE = new Set([429, 502, 503, 504]);
const clientContexts = new WeakMap<CollectorTls, SecureContext>();

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

/** One POST; `tls` applies to an https endpoint (null: the default trust and the mesh's roots). */
export function postBody(t: PostTarget, body: string | Uint8Array, contentType: string, tls: CollectorTls | null = null): Promise<SendOutcome> {
  let url: URL;
  try {
    url = new URL(t.endpoint);
  } catch {
    return Promise.resolve("fail");
  }
  return new Promise((resolve) => {
    const https = url.protocol === "https:";
    const send = https ? httpsModule().request : http.request;
    const headers = { ...t.headers, "content-type": contentType, "content-length": Buffer.byteLength(body) };
    let req: ReturnType<typeof http.request>;
    try {
      req = send(url, { method: "POST", headers, timeout: t.timeoutMs, ...(https ? tlsOptions(t, tls) : {}) }, (res) => {
        res.resume();
        res.on("close", () => resolve("retry")); // cut off before its end (a no-op after "end")
        res.on("end", () => {
          const code = res.statusCode ?? 0;
          resolve(code >= 200 && code < 300 ? "ok" : RETRYABLE.has(code) ? "retry" : "fail");
        });
      });
    } catch {
      // A header value Node refuses (the control plane checks them; an environment variable may still hold one).
      return resolve("fail");
    }
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve("retry"));
    req.end(body);
  });
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
