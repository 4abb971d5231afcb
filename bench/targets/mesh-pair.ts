// A mesh hop as two proxies: the client's sidecar (outbound) → the server's sidecar (inbound) → the
// bench upstream, so a row counts both proxies' CPU (the pair) and the added latency of the hop.
//   amime-pair        two `amime proxy` processes, plaintext between them
//   amime-pair-mtls   the same over ISTIO_MUTUAL (workload certificates made by openssl, SPIFFE
//                     URI SANs, `--cert/--key/--root-cert`), STRICT on the server side
//   nginx-pair-tls    two nginx: proxy_ssl toward the second (keep-alive upstream pool, session
//                     reuse), which terminates TLS with a client certificate required; TLS 1.3
//                     as the Amime pair (nginx-pair-tls12: nginx 1.22's default, TLS 1.2)
// The `-hs` variants open a new upstream connection per request (Amime: maxRequestsPerConnection
// 1; nginx: no upstream keep-alive, no session reuse): their saturation rps is the full-handshake
// rate between the two proxies.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { childPids } from "../lib/proc.ts";
import { stopProcess } from "../lib/spawn.ts";
import { startAmime, benchProxyConfig } from "./amime.ts";
import { startNginx } from "./nginx.ts";
import type { RunningTarget, StartContext, TargetFactory } from "./target.ts";

type Obj = Record<string, unknown>;
const SERVER_ID = "spiffe://cluster.local/ns/default/sa/bench-server";
const CLIENT_ID = "spiffe://cluster.local/ns/default/sa/bench-client";

interface Pki {
  ca: string;
  cert(name: string): { cert: string; key: string };
}

/** A root and two workload certificates (EC P-256, as Istio's), made once per bench run. */
function meshPki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const p = (f: string): string => join(dir, f);
  const ssl = (args: string[]): void => void execFileSync("openssl", args, { stdio: "ignore" });
  if (!existsSync(p("root.pem"))) {
    ssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p("root.key"), "-out", p("root.pem"), "-days", "2", "-subj", "/O=cluster.local"]);
    for (const [name, id] of [
      ["server", SERVER_ID],
      ["client", CLIENT_ID],
    ] as const) {
      ssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", "/"]);
      writeFileSync(p(`${name}.ext`), `subjectAltName=URI:${id},DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n`);
      ssl(["x509", "-req", "-in", p(`${name}.csr`), "-CA", p("root.pem"), "-CAkey", p("root.key"), "-CAcreateserial", "-out", p(`${name}.pem`), "-days", "2", "-extfile", p(`${name}.ext`)]);
    }
  }
  return { ca: p("root.pem"), cert: (name) => ({ cert: p(`${name}.pem`), key: p(`${name}.key`) }) };
}

function certFlags(pki: Pki, name: string): string[] {
  const c = pki.cert(name);
  return ["--cert", c.cert, "--key", c.key, "--root-cert", pki.ca];
}

/** The bench config as the server's sidecar: an inbound listener to the upstream. */
function serverConfig(port: number, upstreamPort: number, mtls: boolean): Obj {
  const cfg = benchProxyConfig(port, upstreamPort) as Obj;
  const l = (cfg.listeners as Obj[])[0] as Obj;
  l.direction = "inbound";
  if (mtls) l.mtls = "STRICT";
  ((cfg.clusters as Obj[])[0] as Obj).direction = "inbound";
  return cfg;
}

/** The bench config as the client's sidecar, its cluster pointing at the server's sidecar. */
function clientConfig(port: number, serverPort: number, mtls: boolean, handshakes: boolean): Obj {
  const cfg = benchProxyConfig(port, serverPort) as Obj;
  const c = (cfg.clusters as Obj[])[0] as Obj;
  if (mtls) c.tls = { mode: "ISTIO_MUTUAL", subjectAltNames: [SERVER_ID], insecureSkipVerify: false };
  if (handshakes) (c.connectionPool as Obj).maxRequestsPerConnection = 1;
  return cfg;
}

function amimePair(name: string, mtls: boolean, handshakes: boolean, codeRoot: string | null = null): TargetFactory {
  return {
    name,
    unavailable: () => null,
    async start(ctx: StartContext): Promise<RunningTarget> {
      const pki = mtls ? meshPki(join(ctx.workDir, "mesh-pki")) : null;
      const code = codeRoot ?? ctx.root;
      const server = await startAmime(`${name}-server`, ctx, code, (p) => serverConfig(p, ctx.upstreamPort, mtls), pki ? certFlags(pki, "server") : []);
      const client = await startAmime(`${name}-client`, ctx, code, (p) => clientConfig(p, server.port, mtls, handshakes), pki ? certFlags(pki, "client") : []);
      return {
        name,
        port: client.port,
        authority: "bench",
        pids: () => [...client.pids(), ...server.pids()],
        stop: async () => {
          await client.stop();
          await server.stop();
        },
      };
    },
  };
}

/**
 * nginx 1.22 (Debian 12) defaults to TLS 1.0–1.2 on both ends (`ssl_protocols`,
 * `proxy_ssl_protocols`; 1.3 joined the default in 1.23.4), so left alone the pair negotiates
 * TLS 1.2 (ECDHE-ECDSA-AES256-GCM-SHA384) while Amime's negotiates TLS 1.3 (TLS_AES_256_GCM_SHA384),
 * as Istio's sidecars do. Both nginx are set to 1.2–1.3, Istio's range: the same protocol, suite
 * and key exchange (X25519) on both pairs. `tls` "1.2" keeps nginx's default (a row that shows
 * what the protocol version alone costs).
 */
function nginxPair(name: string, handshakes: boolean, tls: "1.3" | "1.2" = "1.3"): TargetFactory {
  return {
    name,
    unavailable: () => (existsSync("/usr/sbin/nginx") ? null : "nginx not installed (apt-get install nginx-light)"),
    async start(ctx: StartContext): Promise<RunningTarget> {
      const pki = meshPki(join(ctx.workDir, "mesh-pki"));
      const s = pki.cert("server");
      const c = pki.cert("client");
      const server = await startNginx(
        ctx,
        `${name}-server`,
        `ssl_certificate ${s.cert}; ssl_certificate_key ${s.key}; ssl_client_certificate ${pki.ca}; ssl_verify_client on;${tls === "1.3" ? " ssl_protocols TLSv1.2 TLSv1.3;" : ""}
    location / { proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }`,
        `upstream bench_upstream { server 127.0.0.1:${ctx.upstreamPort}; keepalive 64; }`,
        " ssl",
      );
      const client = await startNginx(
        ctx,
        `${name}-client`,
        `location / { proxy_pass https://mesh_server; proxy_http_version 1.1; proxy_set_header Connection "${handshakes ? "close" : ""}"; proxy_set_header X-Request-Id $request_id;
      proxy_ssl_certificate ${c.cert}; proxy_ssl_certificate_key ${c.key}; proxy_ssl_trusted_certificate ${pki.ca}; proxy_ssl_verify on; proxy_ssl_name localhost;
      proxy_ssl_session_reuse ${handshakes ? "off" : "on"};${tls === "1.3" ? " proxy_ssl_protocols TLSv1.2 TLSv1.3;" : ""} }`,
        `upstream mesh_server { server 127.0.0.1:${server.port};${handshakes ? "" : " keepalive 64;"} }`,
      );
      const pids = [client.child.pid ?? 0, server.child.pid ?? 0];
      return {
        name,
        port: client.port,
        authority: "bench",
        pids: () => pids.flatMap((p) => [p, ...childPids(p)]),
        stop: async () => {
          await stopProcess(client.child, "SIGQUIT");
          await stopProcess(server.child, "SIGQUIT");
        },
      };
    },
  };
}

/**
 * `--compare DIR`: the Amime pair row `name` with both sidecars from the checkout in DIR (config
 * and certificates made by this one), as `<name>-cmp`; null for a row that is not an Amime pair.
 */
export function amimePairFrom(name: string, dir: string): TargetFactory | null {
  const rows: Record<string, [boolean, boolean]> = { "amime-pair": [false, false], "amime-pair-mtls": [true, false], "amime-pair-mtls-hs": [true, true] };
  const row = rows[name];
  return row === undefined ? null : amimePair(`${name}-cmp`, row[0], row[1], dir);
}

export const meshPairTargets: TargetFactory[] = [
  amimePair("amime-pair", false, false),
  amimePair("amime-pair-mtls", true, false),
  nginxPair("nginx-pair-tls", false),
  amimePair("amime-pair-mtls-hs", true, true),
  nginxPair("nginx-pair-tls-hs", true),
  nginxPair("nginx-pair-tls12", false, "1.2"),
];
