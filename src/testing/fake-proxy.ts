// FakeHttpProxy: one HTTP listener of the sidecar with no network. Downstream clients are
// FakeSockets handed to the listener's connection handler, upstream connections are dialed through
// a FakeDialer, time is a FakeClock, randomness is seeded. Everything between (protocol dispatch,
// the HTTP/1.1 codec, routing, forwarding, retries, timeouts, pools) is the real request path, so
// its state machines are tested on fake time and sockets, through their public behaviour: bytes in,
// bytes out.
import type { Socket } from "node:net";
import type { Random } from "../core/random.ts";
import type { ForwardAction, Listener, ProxyConfig } from "../model/proxy-config.ts";
import type { ProxyLimits, RequestRecord } from "../proxy/request/context.ts";
import { formatResponseFlags } from "../proxy/request/response-flags.ts";
import { HttpListener } from "../proxy/listener/http-listener.ts";
import { forward, route, routeConfig, vhost } from "../proxy/router/fixtures.ts";
import type { FakeClock } from "./fake-clock.ts";
import { FakeSocket, type FakeDialer } from "./fake-socket.ts";
import { emptyConfig, testCluster, testEndpoint, testProxyContext } from "./proxy-context.ts";

/** What the observer saw of one finished request (copied: the record is only valid in the call). */
export interface SeenRequest {
  status: number;
  flags: string;
  upstreamHost: string;
  cluster: string;
  attempts: number;
}

export class FakeHttpProxy {
  readonly clock: FakeClock;
  readonly dialer: FakeDialer;
  readonly listener: HttpListener;
  readonly requests: SeenRequest[] = [];

  constructor(config: ProxyConfig, o: { random?: Random; limits?: Partial<ProxyLimits>; listener?: string } = {}) {
    const t = testProxyContext(config, o);
    this.clock = t.clock;
    this.dialer = t.dialer;
    t.ctx.observer = (r: RequestRecord) =>
      void this.requests.push({ status: r.status, flags: formatResponseFlags(r.flags), upstreamHost: r.upstreamHost, cluster: r.cluster, attempts: r.attempts });
    const l: Listener | undefined = o.listener === undefined ? config.listeners[0] : config.listeners.find((x) => x.name === o.listener);
    if (l === undefined) throw new Error("FakeHttpProxy: the config has no such listener");
    this.listener = new HttpListener(l, t.ctx);
  }

  get stats(): HttpListener["ctx"]["proxy"]["downstream"] {
    return this.listener.ctx.proxy.downstream;
  }

  /** A new client connection (accepted at once); the test writes and reads its bytes. */
  connect(): FakeSocket {
    const s = new FakeSocket({ localPort: this.listener.config.port });
    this.listener.dispatcher.accept(s as unknown as Socket);
    return s;
  }

  /** A new connection for a real client (e.g. node:http2's `createConnection`): its end of the pair. */
  connectPair(): FakeSocket {
    const [client, server] = FakeSocket.pair({ localPort: this.listener.config.port });
    this.listener.dispatcher.accept(server as unknown as Socket);
    return client;
  }
}

/**
 * A sidecar whose one outbound HTTP listener (port 15001) sends every request for reviews:9080 to
 * `cluster` with `action` (timeouts, retry policy, …) over endpoints at `addresses` (port 9080).
 */
export function forwardingProxy(cluster: string, action: Partial<ForwardAction>, addresses: string[]): FakeHttpProxy {
  const rc = { ...routeConfig([vhost("reviews", ["reviews:9080"], [route("r", {}, forward([cluster], action))])]), name: "outbound" };
  const cfg = emptyConfig({
    listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 15001, protocol: "http", routeConfigName: "outbound" }],
    routes: [rc],
    clusters: [testCluster(cluster)],
    endpoints: { [cluster]: addresses.map((a) => testEndpoint(a)) },
  });
  return new FakeHttpProxy(cfg);
}

/** Status code of the n-th response in `text` (0-based), or 0 when there is none yet. */
export function statusOf(text: string, n = 0): number {
  const all = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)];
  const m = all[n];
  return m === undefined ? 0 : Number(m[1]);
}
