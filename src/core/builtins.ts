// Node's HTTP, TLS, HTTPS and HTTP/2 modules without the cost of loading what a config does not use
// (issue 15). Import only types from these modules (`import type`) and take their values from here:
//
// - `node:http` through the built-in loader, not `import`: an ESM import of `node:http` reads every
//   export to build its namespace, and the `WebSocket`/`CloseEvent`/`MessageEvent` getters load
//   undici, which loads `node:tls`, `node:http2`, `node:zlib` and worker_threads: ≈ 14 MB of RSS.
//   And on first use only: the sidecar serves its admin, status and Prometheus listeners and posts
//   its exports with its own HTTP/1.1 codec (proxy/small-http), so that a running sidecar never
//   loads `node:http` (≈ 1.7–2 MB of RSS); what still uses it (an ext-authz HTTP check, the CLI,
//   the local runtime's probes) loads it through `httpModule()`.
// - `node:tls`, `node:https` and `node:http2` on first use: a plain HTTP/1.1 config never calls
//   these accessors, so they are never loaded. The first listener, cluster, credential or client
//   that needs one loads it synchronously (`process.getBuiltinModule`, no I/O: built-ins live in
//   the binary); later calls return the cached module.
// - `node:fs` through the built-in loader as well, and `readFileAsync` in place of
//   `node:fs/promises`: `node:fs`'s namespace reads `fs.promises`, whose getter loads
//   `node:fs/promises`, which loads readline and the REPL's history, and its stream getters load the
//   file streams: ≈ 3 MB of RSS (36 modules) in every sidecar that never reads a file after start.
// - `node:net` and `node:buffer` through the built-in loader too: an ESM import builds the module's
//   namespace, and reading every export runs `node:net`'s `BlockList` and `SocketAddress` getters
//   (`internal/blocklist`, `internal/socketaddress`) and `node:buffer`'s `File` getter
//   (`internal/file`): ≈ 0.1 MB each in a bare process (docs/performance.md, "Session 13: what the
//   sidecar's own code makes Node load"). `Buffer` is the module's, not the global's: Node defines
//   the global as an accessor, a getter call per use in optimized code.
// - `node:crypto` on first use: it loads 17 modules (keygen, ciphers, X.509, KEM …) that a sidecar
//   without mTLS, XFCC or a fluentd ack never calls; x-request-id bytes come from /dev/urandom
//   (proxy/request/request-id.ts).
import type * as Crypto from "node:crypto";
import type * as Fs from "node:fs";
import type * as Http from "node:http";
import type * as Http2 from "node:http2";
import type * as Https from "node:https";
import type * as Net from "node:net";
import type * as Tls from "node:tls";

export const fs: typeof Fs = process.getBuiltinModule("node:fs");
export const net: typeof Net = process.getBuiltinModule("node:net");
export const Buffer: BufferConstructor = process.getBuiltinModule("node:buffer").Buffer;
export type Buffer<T extends ArrayBufferLike = ArrayBufferLike> = globalThis.Buffer<T>;

/** `fs.readFile` as a promise, without loading `node:fs/promises`. */
export function readFileAsync(path: string): Promise<Buffer>;
export function readFileAsync(path: string, encoding: "utf8"): Promise<string>;
export function readFileAsync(path: string, encoding?: "utf8"): Promise<Buffer | string> {
  return new Promise((resolve, reject) => fs.readFile(path, encoding === undefined ? null : encoding, (e, data) => (e ? reject(e) : resolve(data))));
}

/** `fs.readdir` as a promise, without loading `node:fs/promises`. */
export function readdirAsync(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => fs.readdir(path, (e, names) => (e ? reject(e) : resolve(names))));
}

let crypto: typeof Crypto | undefined;
let http: typeof Http | undefined;
let tls: typeof Tls | undefined;
let https: typeof Https | undefined;
let http2: typeof Http2 | undefined;

export function cryptoModule(): typeof Crypto {
  return (crypto ??= process.getBuiltinModule("node:crypto"));
}

export function httpModule(): typeof Http {
  return (http ??= process.getBuiltinModule("node:http"));
}

export function tlsModule(): typeof Tls {
  return (tls ??= process.getBuiltinModule("node:tls"));
}

export function httpsModule(): typeof Https {
  return (https ??= process.getBuiltinModule("node:https"));
}

export function http2Module(): typeof Http2 {
  return (http2 ??= process.getBuiltinModule("node:http2"));
}

/** RST_STREAM codes (RFC 9113 §7), as `node:http2`'s `constants` names them, without loading it. */
export const NGHTTP2_REFUSED_STREAM = 0x7;
export const NGHTTP2_CANCEL = 0x8;
