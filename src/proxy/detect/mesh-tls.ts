// Server side of mutual TLS on a sidecar's inbound listener: what the handshake offers and which
// peers it accepts once done (a certificate that chains to the mesh trust bundle, not revoked).
import type { X509Certificate } from "node:crypto";
import type { Socket } from "node:net";
import type { Server, TLSSocket } from "node:tls";
import { normalSerial } from "../identity/mesh-credentials.ts";
import type { ActiveCertificate } from "../identity/workload-certificate.ts";
import type { ProxyContext } from "../request/context.ts";
import { xfccOf, type XfccPlan } from "./xfcc.ts";
import { tlsModule } from "../../core/builtins.ts";

/** Counters a terminator keeps (Envoy's listener `ssl.handshake` / `ssl.connection_error`). */
export interface MeshTlsCounters {
  mtls: number;
  mtlsRefused: number;
  /** Handshakes that resumed a session (Envoy's `ssl.session_reused`). */
  sessionReused: number;
}

/**
 * Terminates mutual TLS on connections whose first bytes were a ClientHello (peeked and put back).
 * A node:tls Server that never listens does the handshake (connections are handed to it), so
 * requestCert + rejectUnauthorized are Node's own chain verification against the trust bundle;
 * the deny list is checked once the handshake is done. A rotated certificate is used by the next
 * handshake; open connections keep theirs.
 */
export class MeshTlsTerminator {
  readonly #proxy: ProxyContext;
  readonly #counters: MeshTlsCounters;
  #server: Server | null = null;
  #cert: ActiveCertificate | null = null;
  readonly #onSecure: (t: TLSSocket) => void;
  /** Connections still in the handshake. */
  readonly #pending = new Set<Socket>();
  /** Verified connections still open (closed when the deny list comes to name their certificate). */
  readonly #open = new Set<TLSSocket>();

  /** `onSecure` gets each verified TLS socket; refused connections are destroyed and counted. */
  constructor(proxy: ProxyContext, counters: MeshTlsCounters, onSecure: (t: TLSSocket) => void) {
    this.#proxy = proxy;
    this.#counters = counters;
    this.#onSecure = onSecure;
  }

  /** Handshake on `socket` (paused, its peeked bytes put back). */
  accept(socket: Socket): void {
    const mesh = this.#proxy.mesh;
    const cert = mesh?.current ?? null;
    const options = mesh?.options ?? null;
    if (cert === null || options === null) {
      // No certificate yet: nothing to answer a ClientHello with.
      this.#counters.mtlsRefused++;
      socket.destroy();
      return;
    }
    if (this.#server === null) {
      this.#server = tlsModule().createServer({ ...options, requestCert: true, rejectUnauthorized: true, ALPNProtocols: SERVER_ALPN }, (t) => this.#secure(t));
      this.#server.on("tlsClientError", (_e, t) => {
        this.#counters.mtlsRefused++;
        t.destroy();
      });
    } else if (this.#cert !== cert) {
      this.#server.setSecureContext({ ...options });
    }
    this.#cert = cert;
    this.#pending.add(socket);
    socket.once("close", () => this.#pending.delete(socket));
    this.#server.emit("connection", socket);
  }

  /** Handshakes in progress. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Listener closing: drop the connections still in the handshake. */
  destroyPending(): void {
    for (const s of this.#pending) s.destroy();
    this.#pending.clear();
  }

  /** A new deny list: close the open connections whose client certificate it now names. Returns how many. */
  closeRevoked(revocations: { serials: readonly string[]; identities: readonly string[] } | undefined): number {
    if (revocations === undefined || (revocations.serials.length === 0 && revocations.identities.length === 0)) return 0;
    let closed = 0;
    for (const t of this.#open) {
      if (meshPeerAccepted(t, revocations)) continue;
      this.#open.delete(t);
      t.destroy();
      closed++;
    }
    return closed;
  }

  #secure(t: TLSSocket): void {
    // node:tls keeps the wrapped TCP socket as `_parent`: it is no longer "in the handshake".
    const parent = (t as TLSSocket & { _parent?: Socket })._parent;
    if (parent !== undefined) this.#pending.delete(parent);
    // One certificate object per connection: getPeerCertificate() rebuilds every field and
    // fingerprint at each call (~200 µs), the X509Certificate reads fields on demand.
    const peer = t.getPeerX509Certificate();
    if (!meshPeerAccepted(t, this.#proxy.runtime.config.revocations, peer)) {
      this.#counters.mtlsRefused++;
      t.destroy();
      return;
    }
    this.#counters.mtls++;
    if (t.isSessionReused()) this.#counters.sessionReused++;
    verifiedPeers.set(t, firstUri(peer?.subjectAltName) ?? "");
    // Istio's sidecar inbound: APPEND_FORWARD with Subject, URI, DNS.
    xfccPlans.set(t, { mode: "append", element: xfccOf(t, undefined, peer) });
    this.#open.add(t);
    t.once("close", () => this.#open.delete(t));
    this.#onSecure(t);
  }
}

/**
 * Istio's server ALPN is `h2, http/1.1` (HTTP chains) and `istio-peer-exchange, h2, http/1.1`
 * (TCP); the mesh client offers `istio-peer-exchange, istio[, h2]`. Node fails a handshake that
 * shares no protocol, so the server offers the union and the stream is dispatched on h2 or not.
 */
export const SERVER_ALPN = ["h2", "http/1.1", "istio-peer-exchange", "istio"];

/** After the handshake: the client's certificate verified against the trust bundle and not on the deny list. */
export function meshPeerAccepted(t: TLSSocket, revocations: { serials: readonly string[]; identities: readonly string[] } | undefined, peer: X509Certificate | undefined = t.getPeerX509Certificate()): boolean {
  if (!t.authorized || peer === undefined) return false;
  if (revocations === undefined) return true;
  if (revocations.serials.length > 0) {
    const serial = normalSerial(peer.serialNumber);
    if (revocations.serials.some((s) => normalSerial(s) === serial)) return false;
  }
  if (revocations.identities.length > 0) {
    const uri = firstUri(peer.subjectAltName);
    if (uri !== undefined && revocations.identities.includes(uri)) return false;
  }
  return true;
}

/** Verified mTLS connections → the peer's SPIFFE URI; only #secure adds to it, after verification. */
const verifiedPeers = new WeakMap<Socket, string>();

/** Accepted connections → what they do to x-forwarded-client-cert (detect/xfcc.ts), decided once. */
const xfccPlans = new WeakMap<Socket, XfccPlan>();

/** The x-forwarded-client-cert plan of a connection; null (the header is removed) when none was set. */
export function xfccPlanOf(socket: Socket): XfccPlan | null {
  return xfccPlans.get(socket) ?? null;
}

/** A listener with its own x-forwarded-client-cert setting (gateways) decided this connection's plan. */
export function setXfccPlan(socket: Socket, plan: XfccPlan | null): void {
  if (plan === null) xfccPlans.delete(socket);
  else xfccPlans.set(socket, plan);
}

/** A gateway's ISTIO_MUTUAL connection passed meshPeerAccepted: its peer identity is the certificate's. */
export function markVerifiedPeer(t: TLSSocket, peer: X509Certificate | undefined = t.getPeerX509Certificate()): void {
  verifiedPeers.set(t, firstUri(peer?.subjectAltName) ?? "");
}

/** The SPIFFE URI a connection's verified client certificate carries; "" for plaintext or any other socket. */
export function verifiedPeerOf(socket: Socket): string {
  return verifiedPeers.get(socket) ?? "";
}

/** The verified peer's SPIFFE URI SAN (the first URI SAN). */
export function peerUri(t: TLSSocket): string | undefined {
  return firstUri(t.getPeerX509Certificate()?.subjectAltName);
}

/** The first URI of a subjectAltName list as Node writes it (`URI:a, DNS:b`). */
export function firstUri(san: string | undefined): string | undefined {
  if (san === undefined) return undefined;
  for (const part of san.split(",")) {
    const p = part.trim();
    if (p.startsWith("URI:")) return p.slice(4);
  }
  return undefined;
}
