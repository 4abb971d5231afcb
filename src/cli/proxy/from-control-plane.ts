// \`amime proxy --xds URL --node ID\`: the sidecar takes its configs from the control plane's push
// stream (one or several replicas) and its workload certificate from the mesh CA, with the proxy's
// credential (\$AMIME_PROXY_TOKEN or --token-file, read again on every reconnect); ready once it has
// both.
import { cryptoModule, fs } from "../../core/builtins.ts";
import { withCertificates } from "../../core/pem.ts";
import { PushClient } from "../../proxy/control/push-client.ts";
import { MeshCredentials } from "../../proxy/identity/mesh-credentials.ts";
import type { SidecarOptions } from "../../proxy/sidecar.ts";
import { UsageError } from "../lib/args.ts";
import { untilSignal } from "../lib/signals.ts";
import { logWhileNotReady } from "./not-ready-log.ts";
import { readyLine } from "./ready-line.ts";

/** The flags of the --xds mode. */
export interface XdsFlags {
  xds: string;
  node?: string;
  tokenFile?: string;
  rootCert?: string;
}

/**
 * --xds: wait for the first pushed config (however long the control plane takes), then serve.
 * `collect`: a major collection, run around the parse of a full state (PushClientOptions.collect).
 */
export async function runFromControlPlane(args: XdsFlags, options: SidecarOptions, collect?: () => void): Promise<number> {
  if (args.node === undefined) throw new UsageError("--xds needs --node ID");
  // Several control-plane replicas, comma-separated: the proxy spreads over them and fails over.
  const urls = args.xds.split(",").map((u) => u.trim());
  try {
    for (const u of urls) new URL(u);
  } catch {
    process.stderr.write(`amime proxy: --xds needs a URL such as https://127.0.0.1:15010 (or several, comma-separated)\n`);
    return 2;
  }
  const rootFile = args.rootCert ?? process.env.AMIME_ROOT_CERT;
  // The root and the token are read synchronously, once, before anything else runs: fs.readFile
  // would load one more of Node's modules (internal/fs/read/context) into the sidecar for these two
  // small reads, kept for its life (issue 15; docs/performance.md, "Session 18: the builtins and
  // native state of the push").
  let ca: string | undefined;
  if (rootFile) {
    try {
      ca = fs.readFileSync(rootFile, "utf8");
    } catch (e) {
      process.stderr.write(`amime proxy: cannot read --root-cert: ${(e as Error).message}\n`);
      return 1;
    }
  } else if (urls.some((u) => new URL(u).protocol === "https:")) {
    throw new UsageError("--xds over https needs the mesh root to verify the control plane with: --root-cert FILE or $AMIME_ROOT_CERT");
  }
  const node = args.node;
  let token: string | (() => string) | undefined = process.env.AMIME_PROXY_TOKEN;
  if (args.tokenFile !== undefined) {
    const file = args.tokenFile;
    let last: string;
    try {
      last = fs.readFileSync(file, "utf8").trim();
    } catch (e) {
      process.stderr.write(`amime proxy: cannot read --token-file: ${(e as Error).message}\n`);
      return 1;
    }
    if (!last) throw new UsageError(`--token-file ${file} is empty`);
    // Read again on every (re)connect and bootstrap request (a few small reads, never per request):
    // the kubelet rotates a projected service-account token in place.
    token = () => {
      try {
        last = fs.readFileSync(file, "utf8").trim() || last;
      } catch (e) {
        process.stderr.write(`amime proxy: cannot read --token-file (using the last token read): ${(e as Error).message}\n`);
      }
      return last;
    };
  }
  if (!token) throw new UsageError("--xds needs this proxy's credential: set $AMIME_PROXY_TOKEN or pass --token-file FILE");
  const ttl = process.env.SECRET_TTL ? parseDuration(process.env.SECRET_TTL) : undefined;
  if (ttl === null) throw new UsageError(`$SECRET_TTL must be a duration such as 24h, 90m or 30s (got ${JSON.stringify(process.env.SECRET_TTL)})`);
  const mesh = new MeshCredentials();
  // The control plane's certificate chains to the file's root, or (after a root rotation) to one
  // of the roots pushed since. The file's roots kept as the same string while the pushed ones add
  // none (the usual case: the same root), so the control plane's TLS context is made once.
  let bundleSeen: string | undefined;
  let rootsMerged: string | undefined;
  const cpRoots = (): string | undefined => {
    const bundle = mesh.trustBundle;
    if (ca === undefined || bundle === undefined) return ca ?? bundle;
    if (bundle !== bundleSeen) [bundleSeen, rootsMerged] = [bundle, withCertificates(ca, bundle)];
    return rootsMerged;
  };
  // The workload certificate client (and its X.509 library) only in --xds mode: a proxy run from
  // a config file has no CA to ask, and does not pay for loading it.
  const { WorkloadCertificate } = await import("../../proxy/identity/workload-certificate.ts");
  // Ready only with a certificate (as Istio's agent waits for SDS): auto mTLS needs it both ways.
  let certified!: () => void;
  const firstCertificate = new Promise<void>((r) => (certified = r));
  const certificate = new WorkloadCertificate({
    url: urls[0]!,
    urls,
    ca: cpRoots,
    token,
    ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
    log: (l) => process.stderr.write(`amime proxy: ${l}\n`),
    onIssued: (c) => {
      mesh.set(c);
      certified();
    },
  }).start();
  const client = new PushClient({
    url: urls[0]!,
    urls,
    ca: cpRoots,
    node,
    token,
    sidecar: { mesh, ...options },
    ...(collect !== undefined ? { collect } : {}),
    log: (l) => process.stderr.write(`amime proxy: ${l}\n`),
    onPush: (r) => {
      if (!r.accepted) process.stderr.write(`amime proxy: rejected config ${r.version}: ${r.error ?? ""}\n`);
      // The CA's deny list lists our own certificate: get a new one now (docs/security.md).
      const own = certificate.current;
      const denied = client.sidecar?.config.revocations;
      if (r.accepted && own && denied?.serials.includes(own.serial.toLowerCase()) && !denied.identities.includes(own.identity)) {
        process.stderr.write(`amime proxy: workload certificate serial ${own.serial} was revoked; requesting a new one\n`);
        certificate.renewNow();
      }
      // A root rotation: the CA signs under another root now; renew with the current certificate.
      const signing = client.sidecar?.config.signingRoot;
      if (r.accepted && own && signing !== undefined && rootFingerprintOf(own.certChain) !== signing) certificate.renewSoon();
    },
  }).start();
  const signalled = untilSignal().then(() => null);
  const waiting = logWhileNotReady(() => waitsOf(client, certificate.current !== null, node), (l) => process.stderr.write(`amime proxy: ${l}\n`));
  const sidecar = await Promise.race([Promise.all([client.ready, firstCertificate]).then(([s]) => s), signalled]);
  waiting.stop();
  if (sidecar !== null) {
    process.stdout.write(readyLine(sidecar, node));
    await signalled;
  }
  certificate.close();
  await client.close(5000);
  setTimeout(() => process.exit(0), 200).unref();
  return 0;
}

/** What a sidecar that is not ready still waits for (logWhileNotReady). */
function waitsOf(client: PushClient, certified: boolean, node: string): string[] {
  const waits: string[] = [];
  const received = client.counters.full_state + client.counters.config > 0;
  if (client.sidecar === null) {
    if (received) waits.push("its first config to start (see above)");
    else if (client.connected) waits.push(`its config (stream to ${client.controlPlane} open, nothing sent to ${node} yet: is its instance registered?)`);
    else waits.push(`a stream to ${client.controlPlane}`);
  }
  if (!certified) waits.push("its workload certificate");
  return waits;
}

/** SHA-256 fingerprint (lower-case hex) of the last certificate of a chain: its root. */
function rootFingerprintOf(chain: readonly string[]): string {
  return new (cryptoModule().X509Certificate)(chain.at(-1) as string).fingerprint256.replace(/:/g, "").toLowerCase();
}

/** `24h`, `90m`, `30s`, `1h30m` (Go's duration form, as Istio's SECRET_TTL) → seconds; null if unreadable. */
export function parseDuration(text: string): number | null {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text.trim()) return null;
  const seconds = parts.reduce((sum, p) => sum + Number(p[1]) * (p[2] === "h" ? 3600 : p[2] === "m" ? 60 : 1), 0);
  return seconds > 0 ? Math.round(seconds) : null;
}
