// The server certificate an upstream TLS connection verified, kept from the handshake's own check.
// node:tls hands checkServerIdentity a fully parsed certificate (getPeerCertificate(true): every
// field and the issuer chain) on each full handshake; asking the socket again afterwards
// (getPeerCertificate(), ~200 µs here) rebuilds it all. So the check records the few fields the
// proxy reads later (the principal for telemetry, serial and SANs for the deny list), and a resumed
// handshake, which skips the check, takes them from the session it resumed (recorded when that
// session's connection was verified: same server certificate).
import type { Socket } from "node:net";
import type { ConnectionOptions, PeerCertificate, TLSSocket } from "node:tls";

/** What is kept of a verified server certificate. */
export interface ServerPeer {
  /** The first URI SAN (a SPIFFE id), "" without one. */
  readonly principal: string;
  /** As node:tls writes them (`serialNumber`: upper-case hex; `subjectaltname`: `URI:a, DNS:b`). */
  readonly serialNumber: string;
  readonly subjectaltname: string;
}

/** Full handshakes: what checkServerIdentity accepted. */
const checked = new WeakMap<Socket, ServerPeer>();
/** Resumption offered: the peer of the session offered (valid only if the server resumed it). */
const offered = new WeakMap<Socket, ServerPeer>();

/** The few fields kept of a certificate (see ServerPeer). */
export function serverPeerOf(cert: PeerCertificate): ServerPeer {
  const subjectaltname = cert.subjectaltname ?? "";
  return { principal: firstUriSan(subjectaltname), serialNumber: cert.serialNumber ?? "", subjectaltname };
}

/**
 * tls.connect with `opts`, keeping the server certificate its checkServerIdentity accepts.
 * `resumedPeer`: the peer recorded with the session in `opts.session`, if one is offered.
 */
export function connectKeepingPeer(connect: (o: ConnectionOptions) => TLSSocket, opts: ConnectionOptions, resumedPeer?: ServerPeer): TLSSocket {
  const check = opts.checkServerIdentity;
  let socket: TLSSocket | null = null;
  const wrapped: ConnectionOptions =
    check === undefined
      ? opts
      : {
          ...opts,
          // Runs inside the handshake, after connect() returned: `socket` is set.
          checkServerIdentity: (host: string, cert: PeerCertificate): Error | undefined => {
            const err = check(host, cert);
            if (err === undefined && socket !== null) checked.set(socket, serverPeerOf(cert));
            return err;
          },
        };
  socket = connect(wrapped);
  if (resumedPeer !== undefined) offered.set(socket, resumedPeer);
  return socket;
}

/**
 * The verified server certificate's fields on an upstream TLS connection once its handshake is
 * done: recorded by the check, or by the session it resumed; undefined when neither applies (no
 * check ran and no session was resumed; unverified: insecureSkipVerify) — callers then ask the socket.
 */
export function keptServerPeer(socket: Socket): ServerPeer | undefined {
  const full = checked.get(socket);
  if (full !== undefined) return full;
  const t = socket as Socket & { isSessionReused?: () => boolean };
  return typeof t.isSessionReused === "function" && t.isSessionReused() ? offered.get(socket) : undefined;
}

/** The first URI of a subjectAltName list as Node writes it (`URI:a, DNS:b`), "" without one. */
export function firstUriSan(san: string): string {
  for (const part of san.split(",")) {
    const p = part.trim();
    if (p.startsWith("URI:")) return p.slice(4);
  }
  return "";
}
