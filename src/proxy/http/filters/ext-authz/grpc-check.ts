// The check against a gRPC authorization service (Istio's envoyExtAuthzGrpc, Envoy's ext_authz
// grpc_service): envoy.service.auth.v3.Authorization/Check with the request's attributes (every
// header, pseudo-headers included, as Envoy sends them). Status OK allows (ok_response headers go
// upstream, headers_to_remove are stripped, response_headers_to_add go to the client); any other
// status denies with denied_response's status (403 when unset), headers and body. One grpc-js
// channel per endpoint of the provider's cluster, created on first use and reused.
import { fileURLToPath } from "node:url";
// eslint-disable-next-line @typescript-eslint/no-restricted-imports -- this module is itself loaded with import() by ext-authz-filter.ts only when the config needs it
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import type { Clock } from "../../../../core/clock.ts";
import type { Host } from "../../../upstream/balance/balancer.ts";
import type { CheckInput, CheckOutcome } from "./check.ts";

export const EXT_AUTHZ_PROTO_DIR = fileURLToPath(new URL("./proto/", import.meta.url));
export const EXT_AUTHZ_PROTO = "envoy/service/auth/v3/external_auth.proto";
/** Options the client and the tests' authorizer load the protocol with (HTTP statuses as numbers). */
export const EXT_AUTHZ_PROTO_OPTIONS = { keepCase: true, longs: Number, enums: Number, defaults: true, oneofs: true, includeDirs: [EXT_AUTHZ_PROTO_DIR] };

interface WireHeaderOption {
  header: { key: string; value: string } | null;
  append: { value: boolean } | null;
  append_action: number;
}

export interface WireCheckResponse {
  status: { code: number; message: string } | null;
  denied_response?: { status: { code: number } | null; headers: WireHeaderOption[]; body: string } | null;
  ok_response?: { headers: WireHeaderOption[]; headers_to_remove: string[]; response_headers_to_add: WireHeaderOption[] } | null;
  http_response?: string;
}

type CheckFn = (req: unknown, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: WireCheckResponse) => void) => grpc.ClientUnaryCall;
type AuthorizationClient = grpc.Client & { Check: CheckFn };
type AuthorizationCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => AuthorizationClient;

let ctor: AuthorizationCtor | null = null;

/** The generated service (the .proto files are parsed once per process). */
export function authorizationService(): grpc.GrpcObject {
  return grpc.loadPackageDefinition(loadSync(EXT_AUTHZ_PROTO, EXT_AUTHZ_PROTO_OPTIONS));
}

function clientCtor(): AuthorizationCtor {
  if (ctor === null) {
    const pkg = authorizationService() as unknown as { envoy: { service: { auth: { v3: { Authorization: AuthorizationCtor } } } } };
    ctor = pkg.envoy.service.auth.v3.Authorization;
  }
  return ctor;
}

export class GrpcAuthzClient {
  private readonly clients = new Map<string, AuthorizationClient>();

  private readonly defaultClock: Clock;

  /** `clock`: the timeouts' when check() is given none. */
  constructor(clock: Clock) {
    this.defaultClock = clock;
  }

  /** Check an HTTP request. */
  check(host: Host, input: CheckInput, timeoutMs: number, clock: Clock = this.defaultClock): Promise<CheckOutcome> {
    return this.call(host, checkRequest(input), timeoutMs, clock);
  }

  /** Check a TCP connection (Envoy's network ext_authz: the peers only). */
  checkConnection(host: Host, input: ConnectionCheckInput, timeoutMs: number, clock: Clock = this.defaultClock): Promise<CheckOutcome> {
    return this.call(host, { attributes: { source: peer(input.sourceAddress, input.sourcePort, input.sourcePrincipal), destination: peer(input.destinationAddress, input.destinationPort, input.destinationPrincipal) } }, timeoutMs, clock);
  }

  private call(host: Host, request: unknown, timeoutMs: number, clock: Clock): Promise<CheckOutcome> {
    const client = this.clientFor(host);
    return new Promise<CheckOutcome>((resolve) => {
      let done = false;
      const finish = (o: CheckOutcome): void => {
        if (done) return;
        done = true;
        timer.cancel();
        resolve(o);
      };
      const timer = clock.setTimeout(() => {
        finish({ kind: "error", reason: `timeout after ${timeoutMs} ms` });
        call.cancel();
      }, timeoutMs);
      const call = client.Check(request, {}, (err, res) => {
        if (err !== null || res === undefined) finish({ kind: "error", reason: err?.details ?? "no answer" });
        else finish(outcome(res));
      });
    });
  }

  private clientFor(host: Host): AuthorizationClient {
    let c = this.clients.get(host.key);
    if (c === undefined) {
      const Ctor = clientCtor();
      const address = host.address.includes(":") ? `[${host.address}]:${host.port}` : `${host.address}:${host.port}`;
      c = new Ctor(address, grpc.credentials.createInsecure(), { "grpc.enable_retries": 0 });
      this.clients.set(host.key, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** What a TCP connection's check sends. */
export type ConnectionCheckInput = Pick<CheckInput, "sourceAddress" | "sourcePort" | "sourcePrincipal" | "destinationAddress" | "destinationPort" | "destinationPrincipal">;

function peer(address: string, port: number, principal: string): unknown {
  return { address: { socket_address: { address, port_value: port } }, principal };
}

/** Envoy's CheckRequest for an HTTP request. */
export function checkRequest(input: CheckInput): unknown {
  const headers: Record<string, string> = { ":authority": input.authority, ":method": input.method, ":path": input.path, ":scheme": input.scheme };
  for (const [n, v] of input.headers) if (n !== "host") headers[n] = v;
  const now = Date.now();
  const body = input.body;
  return {
    attributes: {
      source: peer(input.sourceAddress, input.sourcePort, input.sourcePrincipal),
      destination: peer(input.destinationAddress, input.destinationPort, input.destinationPrincipal),
      request: {
        time: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 },
        http: {
          id: input.requestId,
          method: input.method,
          headers,
          path: input.path,
          host: input.authority,
          scheme: input.scheme,
          size: body?.length ?? 0,
          protocol: input.protocol,
          ...(body === undefined ? {} : input.packAsBytes ? { raw_body: body } : { body: body.toString("utf8") }),
        },
      },
    },
  };
}

function pairs(list: readonly WireHeaderOption[] | undefined): [string, string, boolean][] {
  const out: [string, string, boolean][] = [];
  for (const h of list ?? []) {
    if (h.header === null || h.header.key === "") continue;
    // append (deprecated BoolValue) defaults to false in these messages; append_action 0 is APPEND_IF_EXISTS_OR_ADD only when append is unset.
    const append = h.append !== null ? h.append.value : false;
    out.push([h.header.key.toLowerCase(), h.header.value, append]);
  }
  return out;
}

/** A CheckResponse as an outcome. */
export function outcome(res: WireCheckResponse): CheckOutcome {
  const code = res.status?.code ?? 0;
  if (code === 0) {
    const ok = res.ok_response ?? null;
    return {
      kind: "ok",
      upstreamHeaders: pairs(ok?.headers),
      removeHeaders: (ok?.headers_to_remove ?? []).map((s) => s.toLowerCase()).filter((s) => s !== "host" && !s.startsWith(":")),
      downstreamHeaders: pairs(ok?.response_headers_to_add).map(([n, v]) => [n, v] as const),
    };
  }
  const denied = res.denied_response ?? null;
  const status = denied?.status?.code ?? 0;
  return {
    kind: "denied",
    status: status >= 200 && status <= 599 ? status : 403,
    headers: pairs(denied?.headers).map(([n, v]) => [n, v] as const),
    body: denied?.body ?? "",
  };
}
