// `amime proxy --config FILE`: run the sidecar proxy alone from a ProxyConfig file (JSON or YAML),
// or `amime proxy --xds URL --node ID`: take its config from the control plane's push stream.
// Prints one JSON line once every listener is bound (tests and the bench read it); SIGINT or
// SIGTERM drain connections and exit 0; an invalid config file exits 1 with the reasons. The --xds
// mode, the static certificate files and the ready line are in proxy/.
import { net } from "../core/builtins.ts";
import type { MeshCredentials } from "../proxy/identity/mesh-credentials.ts";
import { Sidecar, type SidecarOptions } from "../proxy/sidecar.ts";
import type { SecretStore } from "../proxy/tls/secrets/secret-store.ts";
import type { Command } from "./command.ts";
import { readFlags, runParsed, UsageError } from "./lib/args.ts";
import { untilSignal } from "./lib/signals.ts";
import { loadProxyConfigFile } from "./proxy/config-file.ts";
import { runFromControlPlane } from "./proxy/from-control-plane.ts";
import { readyLine } from "./proxy/ready-line.ts";
import { staticCredentials } from "./proxy/static-credentials.ts";

const { isIP } = net;

export const PROXY_HELP = `Usage: amime proxy --config FILE [--cert FILE --key FILE --root-cert FILE] [PORT OPTIONS] [--secret-dir DIR]
       amime proxy --xds URL --node ID --root-cert FILE [--token-file FILE] [PORT OPTIONS] [--secret-dir DIR]

Run the sidecar proxy from a ProxyConfig file (JSON or YAML; format in docs/proxy.md), or from
the configs a control plane pushes (docs/control-plane.md).
Once every listener is bound, prints one JSON line on stdout:
  {"ready":true,"version":"…","listeners":{"<listener name>":<port>,…},"admin":<port>}
With --xds that happens after the first pushed config is applied; later pushes are applied
live (ACK/NACK), and while the control plane is unreachable the proxy keeps serving its last
good config and reconnects with backoff.
The control plane accepts the stream only with this proxy's own credential, bound to its node
id: $AMIME_PROXY_TOKEN or --token-file (the runtime hands one to each process; by hand, an
admin mints one with POST /api/v1/credentials, see docs/control-plane.md). On Kubernetes
(a control plane with --platform kubernetes) it is the pod's projected service-account token of
audience istio-ca (the injected --token-file); the file is read again on every reconnect and
certificate request, as the kubelet rotates it (docs/kubernetes.md). The control plane
serves over TLS only: its certificate must chain to --root-cert (the mesh root, written to
.amime/root-cert.pem beside the admin credential), or the proxy does not connect.
With --xds the proxy also keeps a workload certificate (SPIFFE X.509 SVID) from the control
plane's CA: its key is generated here and never leaves the process; it is renewed at half its
lifetime. Its lifetime is $SECRET_TTL (Istio's name; e.g. 24h, 90s; default: the CA's, 24 h).
It is used for mutual TLS between sidecars (docs/security.md).
With --config, --cert/--key/--root-cert give the proxy a fixed workload certificate instead (a
SPIFFE X.509 SVID made elsewhere, e.g. by the bench or your own PKI): ISTIO_MUTUAL clusters and
inbound mTLS use it, peers are verified against --root-cert. The files are read once (no
rotation; restart to change them).
--secret-dir names a directory of Kubernetes Secret YAML files (kubernetes.io/tls: tls.crt,
tls.key, ca.crt, ca.crl; or Istio's generic cert, key, cacert, crl): Gateway servers and
DestinationRule TLS origination with tls.credentialName take their certificate (and CA, CRL) from
the secret of that name in the proxy's namespace (or from one without a namespace); <name>-cacert
gives the CA. The directory and every certificate and CRL file the config names are watched: new
handshakes use a changed certificate, open connections keep theirs.
SIGINT / SIGTERM drain open connections (up to 5 s) and exit 0.

Options:
  -c, --config FILE     the ProxyConfig to run (this or --xds is required)
      --xds URL[,URL…]  control plane to take configs from, e.g. https://127.0.0.1:15010; several
                        replicas comma-separated: starts on a random one, moves to the next
                        when its stream breaks or the replica drains (stops)
      --root-cert FILE  the mesh root(s) the control plane's certificate is checked against
                        (default: $AMIME_ROOT_CERT); with --config and --cert: the trust
                        bundle mutual TLS verifies peers against
      --cert FILE       with --config: the workload certificate chain (PEM, leaf first; its
                        URI SAN is the proxy's SPIFFE id)
      --key FILE        with --config: the certificate's private key (PEM)
      --node ID         node id to connect as (with --xds), e.g. sidecar~reviews-v1-0.default
      --token-file FILE this proxy's credential (default: $AMIME_PROXY_TOKEN)
      --admin-port N    admin listener port (default 15000; 0 = any free port;
                        -1 = no admin listener)
      --secret-dir DIR  the secret store for credentialName (default: $AMIME_SECRET_DIR; none)
      --admin-address A where the admin listener binds (default 127.0.0.1; \`amime up
                        --runtime netns\` binds the pod's IP, reachable only from the host)
      --status-port N   a read-only status listener (Istio's status port; injected pods: 15021):
                        GET /healthz/ready (200 once ready, as admin /ready; else 503) and
                        GET /listeners (the listeners' ports, an Amime extension); other
                        methods 405, other paths 404 (default: none)
      --status-address A where the status listener binds (default 0.0.0.0)
      --prometheus-address A
                        where the Prometheus listener (telemetry.metricsPort, default 15090;
                        read-only GET /stats/prometheus) binds when the config does not say
                        (default: the config's node ip, else 127.0.0.1)
  -h, --help            show this help

Exit status: 0 after a signal, 1 on an invalid config or a port that cannot be bound,
2 on usage errors.
`;

interface ProxyArgs {
  config?: string;
  xds?: string;
  node?: string;
  tokenFile?: string;
  secretDir?: string;
  rootCert?: string;
  cert?: string;
  key?: string;
  adminPort: number;
  adminAddress?: string;
  statusPort?: number;
  statusAddress?: string;
  prometheusAddress?: string;
  help: boolean;
}

function parseArgs(argv: readonly string[]): ProxyArgs {
  const out: ProxyArgs = { adminPort: 15000, help: false };
  out.help = readFlags(argv, {
    "-c, --config": (f) => { out.config = f.required("a file"); },
    "--xds": (f) => { out.xds = f.required("a value"); },
    "--token-file": (f) => { out.tokenFile = f.required("a file"); },
    "--secret-dir": (f) => { out.secretDir = f.required("a directory"); },
    "--root-cert": (f) => { out.rootCert = f.required("a file"); },
    "--node": (f) => { out.node = f.required("a value"); },
    "--cert": (f) => { out.cert = f.required("a file"); },
    "--key": (f) => { out.key = f.required("a file"); },
    "--admin-port": (f) => { out.adminPort = f.integer(-1, 65535, "a port number (0 = any, -1 = none)"); },
    "--admin-address": (f) => { out.adminAddress = ipFlag(f.flag, f.required("an IP address")); },
    "--status-port": (f) => { out.statusPort = f.integer(0, 65535, "a port number (0 = any)"); },
    "--status-address": (f) => { out.statusAddress = ipFlag(f.flag, f.required("an IP address")); },
    "--prometheus-address": (f) => { out.prometheusAddress = ipFlag(f.flag, f.required("an IP address")); },
  });
  return out;
}

function ipFlag(flag: string, v: string): string {
  if (isIP(v) === 0) throw new UsageError(`${flag} needs an IP address, not "${v}"`);
  return v;
}

/** The sidecar's listener options from the flags: admin, status and Prometheus addresses. */
function portOptions(a: ProxyArgs): SidecarOptions {
  const o: SidecarOptions = {};
  if (a.adminPort >= 0) o.adminPort = a.adminPort;
  if (a.adminPort >= 0 && a.adminAddress !== undefined) o.adminAddress = a.adminAddress;
  if (a.statusPort !== undefined) o.statusPort = a.statusPort;
  if (a.statusAddress !== undefined) o.statusAddress = a.statusAddress;
  if (a.prometheusAddress !== undefined) o.prometheusAddress = a.prometheusAddress;
  return o;
}

/**
 * V8's `gc` when the process was started with --expose-gc (the sidecar's flags,
 * src/core/sidecar-node-flags.ts): the sidecar collects once when it goes quiet after its heap grew.
 */
function exposedGc(): { gc?: () => void } {
  const gc = (globalThis as { gc?: (o: object) => void }).gc;
  return typeof gc === "function" ? { gc: () => gc({ type: "major", execution: "sync", flavor: "last-resort" }) } : {};
}

/** V8's plain major collection around the parse of the start's config (config-file.ts, a pushed full state), when exposed. */
function startGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: (o: object) => void }).gc;
  return typeof gc === "function" ? () => gc({ type: "major", execution: "sync" }) : undefined;
}

export const proxyCommand: Command = {
  name: "proxy",
  run: runParsed("proxy", PROXY_HELP, parseArgs, async (args) => {
    if (args.config !== undefined && args.xds !== undefined) throw new UsageError("--config and --xds are mutually exclusive");
    if (args.statusAddress !== undefined && args.statusPort === undefined) throw new UsageError("--status-address needs --status-port");
    const secretDir = args.secretDir ?? (process.env.AMIME_SECRET_DIR || undefined);
    let secrets: SecretStore | undefined;
    if (secretDir !== undefined) {
      try {
        // Loaded only when asked for (it brings the YAML parser).
        const { SecretStore } = await import("../proxy/tls/secrets/secret-store.ts");
        secrets = await SecretStore.open(secretDir);
      } catch (e) {
        process.stderr.write(`amime proxy: --secret-dir ${secretDir}: ${(e as Error).message}\n`);
        return 1;
      }
    }
    if (args.xds !== undefined) {
      if (args.cert !== undefined || args.key !== undefined) throw new UsageError("--cert/--key are for --config; with --xds the control plane's CA issues the certificate");
      return runFromControlPlane({ ...args, xds: args.xds }, { ...portOptions(args), ...(secrets !== undefined ? { secrets } : {}), ...exposedGc() }, startGc());
    }
    if (args.config === undefined) throw new UsageError("--config FILE or --xds URL is required");
    if ((args.cert === undefined) !== (args.key === undefined) || (args.cert !== undefined && args.rootCert === undefined)) throw new UsageError("a static workload certificate needs all of --cert, --key and --root-cert");
    let mesh: MeshCredentials | undefined;
    if (args.cert !== undefined) {
      try {
        mesh = await staticCredentials(args.cert, args.key as string, args.rootCert as string);
      } catch (e) {
        process.stderr.write(`amime proxy: ${(e as Error).message}\n`);
        return 1;
      }
    }
    let raw: unknown;
    try {
      raw = await loadProxyConfigFile(args.config, startGc());
    } catch (e) {
      process.stderr.write(`amime proxy: cannot read ${args.config}: ${(e as Error).message}\n`);
      return 1;
    }
    let sidecar: Sidecar;
    try {
      sidecar = await Sidecar.start(raw, { ...portOptions(args), ...(secrets !== undefined ? { secrets } : {}), ...(mesh !== undefined ? { mesh } : {}), ...exposedGc(), adoptConfig: true });
    } catch (e) {
      process.stderr.write(`amime proxy: ${args.config}: ${(e as Error).message}\n`);
      return 1;
    }
    // The sidecar keeps its own checked copy; this function stays suspended for the proxy's life,
    // and V8 would keep the parsed file with it (≈ 5 MB of heap with 1,000 services).
    raw = undefined;
    // Listen for signals before the ready line: whoever reads it may send SIGTERM at once.
    const stopped = untilSignal();
    process.stdout.write(readyLine(sidecar));
    await stopped;
    await sidecar.close(5000);
    // Whatever still holds the event loop (a mirror's timer, a half-closed upstream socket) must
    // not keep a stopped proxy alive.
    setTimeout(() => process.exit(0), 200).unref();
    return 0;
  }),
};

