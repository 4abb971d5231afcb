// Dialer: how the proxy opens a TCP connection to an upstream endpoint — plain TCP, or TLS
// origination when the cluster sets `tls` (src/proxy/tls/upstream-tls.ts). Every upstream socket
// (HTTP/1.1 pools, TCP proxying) is dialed through the cluster's Dialer, so the connection and pool
// state machines run on fake sockets in unit tests (src/testing/fake-socket.ts); production uses
// netDialer.
import { net } from "../../core/builtins.ts";
import type { Socket } from "node:net";
import type { UpstreamTlsConfig } from "../../model/proxy-config.ts";
import type { MeshCredentials } from "../identity/mesh-credentials.ts";
import { connectUpstreamTls, type TlsTarget } from "../tls/upstream-tls.ts";
import type { UpstreamTlsContexts } from "../tls/upstream-contexts.ts";

const { connect } = net;

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  readonly noDelay?: boolean;
  readonly allowHalfOpen?: boolean;
  readonly keepAlive?: boolean;
  readonly keepAliveInitialDelay?: number;
  /** Node's `onread`: read into `buffer()`, then `callback(n)` (HTTP/1.1 upstream connections). */
  readonly onread?: { buffer: () => Buffer; callback: (n: number) => boolean };
}

/**
 * Open a connection; it emits 'connect' (plain) or 'secureConnect' (TLS) once established, and
 * 'error'/'close' on failure. Dial errors surface on the socket, never as a throw.
 */
export type Dialer = (opts: DialOptions, tls: UpstreamTlsConfig | undefined, target: TlsTarget, mesh?: MeshCredentials, contexts?: UpstreamTlsContexts) => Socket;

export const netDialer: Dialer = (opts, tls, target, mesh, contexts) => (tls !== undefined ? connectUpstreamTls(opts, tls, target, mesh, contexts) : connect(opts));
