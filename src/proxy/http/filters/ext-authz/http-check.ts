// The check against an HTTP authorization service (Istio's envoyExtAuthzHttp, Envoy's ext_authz
// http_service): the request's method and path (pathPrefix in front), its Host, Authorization and
// the headers the provider lists, and Content-Length (0 unless the body goes along). 200 allows:
// the listed authorizer headers go upstream / downstream and `x-envoy-auth-headers-to-remove`
// names headers to strip; any other status denies with that status, body and headers. Connections
// are dialed through the provider's cluster (its endpoints, its TLS: mesh mTLS when the cluster
// has it) and kept alive per endpoint.
import type { Agent as HttpAgent, ClientRequest, IncomingMessage } from "node:http";
import { httpModule } from "../../../../core/builtins.ts";
import type { Socket } from "node:net";
import type { Clock } from "../../../../core/clock.ts";
import type { ExtAuthzProvider } from "../../../../model/proxy-config.ts";
import type { Host } from "../../../upstream/balance/balancer.ts";
import type { ClusterState } from "../../../upstream/cluster-manager.ts";
import { HeaderPatterns, type CheckInput, type CheckOutcome } from "./check.ts";


/** The authorizer's answer body is read up to this size (Envoy buffers it whole; a bound keeps memory safe). */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Headers Envoy always sends to the HTTP service. */
const ALWAYS_SENT = new HeaderPatterns(["host", "authorization"]);
/** Never taken from the authorizer's answer (framing and hop-by-hop). */
const NEVER_COPIED = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "host", "date", "server"]);
/** Added to a non-empty headersToDownstreamOnDeny list, as Envoy does. */
const DENY_ALWAYS = ["path", "status", "www-authenticate", "location"];
const HEADERS_TO_REMOVE = "x-envoy-auth-headers-to-remove";

export class HttpAuthzClient {
  private readonly provider: ExtAuthzProvider;
  private readonly clock: Clock;
  private readonly include: HeaderPatterns;
  private readonly toUpstream: HeaderPatterns;
  private readonly toDownstreamOnAllow: HeaderPatterns;
  private readonly toDownstreamOnDeny: HeaderPatterns | null;
  private readonly agents = new Map<string, HttpAgent>();

  constructor(provider: ExtAuthzProvider, clock: Clock) {
    this.provider = provider;
    this.clock = clock;
    this.include = new HeaderPatterns(provider.includeRequestHeaders);
    this.toUpstream = new HeaderPatterns(provider.headersToUpstreamOnAllow);
    this.toDownstreamOnAllow = new HeaderPatterns(provider.headersToDownstreamOnAllow);
    this.toDownstreamOnDeny = provider.headersToDownstreamOnDeny.length === 0 ? null : new HeaderPatterns([...provider.headersToDownstreamOnDeny, ...DENY_ALWAYS]);
  }

  check(cluster: ClusterState, host: Host, input: CheckInput, timeoutMs: number): Promise<CheckOutcome> {
    const headers: Record<string, string> = {};
    for (const [n, v] of input.headers) if (n !== "content-length" && (ALWAYS_SENT.matches(n) || this.include.matches(n))) headers[n] = v;
    for (const h of this.provider.includeAdditionalHeaders) headers[h.name.toLowerCase()] = h.value;
    headers.host = input.authority !== "" ? input.authority : this.provider.authority;
    const body = input.body;
    headers["content-length"] = String(body?.length ?? 0);
    return new Promise<CheckOutcome>((resolve) => {
      let done = false;
      let req: ClientRequest | null = null;
      const finish = (o: CheckOutcome): void => {
        if (done) return;
        done = true;
        timer.cancel();
        resolve(o);
      };
      const timer = this.clock.setTimeout(() => {
        finish({ kind: "error", reason: `timeout after ${timeoutMs} ms` });
        req?.destroy();
      }, timeoutMs);
      try {
        req = httpModule().request({ agent: this.agentFor(cluster, host), method: input.method, path: this.provider.pathPrefix + input.path, headers, setHost: false }, (res) => {
          readAnswer(res, (answer) => finish(answer === null ? { kind: "error", reason: "authorizer answer too large or cut" } : this.outcome(res, answer)));
        });
      } catch (e) {
        finish({ kind: "error", reason: (e as Error).message });
        return;
      }
      req.on("error", (e) => finish({ kind: "error", reason: e.message }));
      req.end(body);
    });
  }

  private outcome(res: IncomingMessage, body: string): CheckOutcome {
    const status = res.statusCode ?? 0;
    const raw = res.rawHeaders;
    if (status === 200) {
      const upstreamHeaders: [string, string, boolean][] = [];
      const downstreamHeaders: [string, string][] = [];
      let removeHeaders: string[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const n = (raw[i] as string).toLowerCase();
        const v = raw[i + 1] as string;
        if (n === HEADERS_TO_REMOVE) removeHeaders = v.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "" && s !== "host" && !s.startsWith(":"));
        else if (NEVER_COPIED.has(n)) continue;
        else {
          if (this.toUpstream.matches(n)) upstreamHeaders.push([n, v, false]);
          if (this.toDownstreamOnAllow.matches(n)) downstreamHeaders.push([n, v]);
        }
      }
      return { kind: "ok", upstreamHeaders, removeHeaders, downstreamHeaders };
    }
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const n = (raw[i] as string).toLowerCase();
      if (NEVER_COPIED.has(n) || n === "content-type") continue;
      if (this.toDownstreamOnDeny === null || this.toDownstreamOnDeny.matches(n)) headers.push([n, raw[i + 1] as string]);
    }
    const type = res.headers["content-type"];
    if (body !== "" && typeof type === "string") headers.push(["content-type", type]);
    return { kind: "denied", status: status > 0 ? status : 403, headers, body };
  }

  /** One keep-alive agent per endpoint, dialing through the cluster (its TLS settings included). */
  private agentFor(cluster: ClusterState, host: Host): HttpAgent {
    let a = this.agents.get(host.key);
    if (a === undefined) {
      a = new (dialAgentClass())(() => cluster.dial({ host: host.address, port: host.port, noDelay: true }, cluster.tlsFor(host), host));
      this.agents.set(host.key, a);
    }
    return a;
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

type DialAgentClass = new (dial: () => Socket) => HttpAgent;
let dialAgent: DialAgentClass | undefined;

/** node:http's keep-alive agent with the proxy's dialer instead of net.connect (made on first use: node:http loads then). */
function dialAgentClass(): DialAgentClass {
  return (dialAgent ??= class DialAgent extends httpModule().Agent {
    private readonly dialFn: () => Socket;
    constructor(dial: () => Socket) {
      super({ keepAlive: true, maxSockets: 256, maxFreeSockets: 16, timeout: 60_000 });
      this.dialFn = dial;
    }
    override createConnection(): Socket {
      return this.dialFn();
    }
  });
}

/** The answer's body as text (null when larger than the bound or cut short). */
function readAnswer(res: IncomingMessage, done: (body: string | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on("data", (c: Buffer) => {
    size += c.length;
    if (size > MAX_ANSWER_BYTES) {
      res.destroy();
      done(null);
      return;
    }
    chunks.push(c);
  });
  res.on("end", () => done(Buffer.concat(chunks, size).toString("utf8")));
  res.on("error", () => done(null));
  res.on("aborted", () => done(null));
}
