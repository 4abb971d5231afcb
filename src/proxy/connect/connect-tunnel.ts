// CONNECT on the outbound (HTTP proxy) listener. Node 24's fetch with NODE_USE_ENV_PROXY=1 (and
// other clients told to use an HTTP proxy) tunnel even plain http:// requests through
// `CONNECT host:port`. We accept the CONNECT and then look at the first bytes the client sends:
//   - plain HTTP (the common case for `http://reviews:9080`): keep parsing the same connection as
//     HTTP/1.1, so every request inside the tunnel is routed like any other (VirtualServices,
//     retries, metrics all apply; the Host header names the service);
//   - the HTTP/2 client preface (h2c: gRPC and other HTTP/2 clients that honour http_proxy tunnel
//     this way): the listener's HTTP/2 side takes the connection, and each stream is routed on
//     its :authority like any HTTP/2 request;
//   - a TLS ClientHello (https:// through the proxy): an opaque TCP tunnel to the named host and
//     port, like Envoy's PassthroughCluster under Istio's default ALLOW_ANY outbound policy.
// A CONNECT target that is not `host:port` gets 400.
import { net } from "../../core/builtins.ts";
import type { Socket } from "node:net";
import { classifyFirstBytes } from "../detect/classify.ts";
import type { Exchange } from "../http/exchange.ts";

const { connect } = net;

const ESTABLISHED = Buffer.from("HTTP/1.1 200 Connection established\r\n\r\n", "latin1");
const TLS_HANDSHAKE = 0x16;
const PREFACE_FIRST = 0x50; // `P` of `PRI * HTTP/2.0`

/** `host:port` of a CONNECT request-target, or null when malformed. */
export function parseConnectTarget(target: string): { host: string; port: number } | null {
  const colon = target.lastIndexOf(":");
  if (colon <= 0) return null;
  let host = target.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const portText = target.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535 || host === "" || /[\s/@]/.test(host)) return null;
  return { host, port };
}

/** Answer a CONNECT: 200, then the connection carries HTTP again or becomes a raw tunnel. */
export function acceptConnect(x: Exchange): void {
  const target = parseConnectTarget(x.head.target);
  if (target === null) {
    x.reply(400, 0, "CONNECT needs a host:port target\n");
    return;
  }
  x.status = 200;
  x.responseStarted = true;
  x.bytesSent += ESTABLISHED.length;
  const h2 = x.listenerCtx.acceptH2;
  x.conn.expectTunnel((bytes, conn) => {
    if (bytes[0] === TLS_HANDSHAKE) return openTunnel(conn.takeOver(), bytes, conn.socket, target);
    // Only a `P` can start the preface; anything else is HTTP/1.1 at once (no wait, no copy kept).
    if (bytes[0] !== PREFACE_FIRST || h2 === undefined) return false;
    const kind = classifyFirstBytes(bytes);
    if (kind === "more") return "more";
    if (kind !== "h2c") return false;
    conn.takeOver();
    conn.socket.pause();
    conn.socket.unshift(bytes);
    h2(conn.socket);
    return true;
  });
  x.conn.write(ESTABLISHED);
  x.finish(false);
}

/** Splice the client socket to host:port (bytes already read go first). Always returns true. */
function openTunnel(early: Buffer | null, first: Buffer, client: Socket, target: { host: string; port: number }): true {
  const upstream: Socket = connect({ host: target.host, port: target.port, noDelay: true });
  if (early !== null && early.length > 0) upstream.write(early);
  upstream.write(first);
  client.pipe(upstream);
  upstream.pipe(client);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on("error", close);
  client.on("error", close);
  upstream.on("close", close);
  client.on("close", close);
  return true;
}
