// Reads into one buffer shared by every downstream connection (HTTP/1.1 and HTTP/2), instead of Node's stream
// path ('data' events): libuv (or, on TLS, OpenSSL's decrypted output) is copied into the buffer
// and a callback gets the byte count. That saves, per read, a fresh ArrayBuffer, a Buffer object,
// Readable.push / 'data' emit and maybeReadMore's nextTick.
//
// Plain TCP: `net.Server` has no `onread` option, so the accepted socket's handle moves into
// `new Socket({ handle, onread })` (the documented constructor option; the handle itself is
// Node-internal). TLS: the socket cannot be rebuilt (node:tls binds its handle's TLS callbacks to
// the TLSSocket), and TLSSocket passes `onread` on only when it opens its own connection, so the
// same two fields `onread` sets are set on the accepted TLSSocket and its handle is given the
// buffer (`useUserBuffer`, what `onread` does underneath). Those fields are Node internals: when a
// Node version changes them, TLS connections keep the stream path.
//
// Either way, bytes the socket already buffered (a peek put back with unshift, or a request sent
// with the TLS Finished message) come back in `early`.
import type * as Net from "node:net";
import { Buffer, net } from "../../core/builtins.ts";

const { Socket } = net;

/**
 * One read buffer shared by every downstream connection, HTTP/1.1 and HTTP/2, plain TCP and TLS:
 * libuv (or OpenSSL) delivers one read at a time and each codec copies whatever outlives the
 * callback, so no connection needs its own.
 */
export const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
type Socket = Net.Socket;

interface HandleLike {
  reading?: boolean;
  readStop(): number;
  useUserBuffer?(buf: Uint8Array): void;
}

type InternalSocket = Socket & { _handle?: HandleLike | null; encrypted?: boolean };

export interface SharedReads {
  /** The socket that now reads into the buffer (a new one for plain TCP, the same one for TLS). */
  readonly socket: Socket;
  /** Bytes buffered before the switch (owned memory), or null. */
  readonly early: Buffer | null;
}

/** The net.Socket fields `onread` sets (lib/net.js: kBuffer, kBufferCb), found by description. */
function onreadFields(): { buffer: symbol; callback: symbol } | null {
  const probe = new Socket();
  const own = Object.getOwnPropertySymbols(probe);
  probe.destroy();
  const buffer = own.find((s) => s.description === "kBuffer");
  const callback = own.find((s) => s.description === "kBufferCb");
  return buffer !== undefined && callback !== undefined ? { buffer, callback } : null;
}

const fields = onreadFields();

/** Whether TLS sockets can read into a shared buffer on this Node (else they stay streams). */
export const sharedTlsReadsAvailable = fields !== null;

/**
 * `socket` reading into `buffer` with `onRead(n)` per read (return false to stop reading until
 * resume()), or null when that is not possible (no handle, a subclass other than TLS, destroyed).
 */
export function readIntoShared(socket: Socket, buffer: Buffer, onRead: (n: number) => boolean): SharedReads | null {
  const s = socket as InternalSocket;
  const handle = s._handle;
  if (handle === undefined || handle === null || s.destroyed || typeof handle.readStop !== "function") return null;
  if (s.encrypted === true) return tlsReads(s, handle, buffer, onRead);
  if (socket.constructor !== Socket) return null;
  const early = drain(socket);
  handle.readStop();
  handle.reading = false;
  s._handle = null;
  socket.removeAllListeners();
  socket.on("error", noop);
  socket.destroy();
  const next = new Socket({ handle, readable: true, writable: true, onread: { buffer, callback: onRead } } as unknown as ConstructorParameters<typeof Socket>[0]);
  return { socket: next, early };
}

function tlsReads(s: InternalSocket, handle: HandleLike, buffer: Buffer, onRead: (n: number) => boolean): SharedReads | null {
  if (fields === null || typeof handle.useUserBuffer !== "function" || s.listenerCount("data") > 0) return null;
  const early = drain(s);
  const fieldsOf = s as unknown as Record<symbol, unknown>;
  fieldsOf[fields.buffer] = buffer;
  fieldsOf[fields.callback] = onRead;
  handle.useUserBuffer(buffer);
  // Flowing, as a 'data' listener would make it: reading goes on (or starts again if the handshake
  // filled the stream's buffer) and 'end' is emitted.
  s.resume();
  return { socket: s, early };
}

/** What the socket's stream side already holds, as one owned buffer. */
function drain(socket: Socket): Buffer | null {
  const parts: Buffer[] = [];
  for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) parts.push(c);
  return parts.length === 0 ? null : parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

function noop(): void {}
