// Node's HTTP, TLS, HTTPS and HTTP/2 modules without the cost of loading what a config does not use
// (issue 15). Import only types from these modules (`import type`) and take their values from here:
//
// - `node:http` through the built-in loader, not `import`: an ESM import of `node:http` reads every
//   export to build its namespace, and the `WebSocket`/`CloseEvent`/`MessageEvent` getters load
//   undici, which loads `node:tls`, `node:http2`, `node:zlib` and worker_threads: ≈ 14 MB of RSS.
// - `node:tls`, `node:https` and `node:http2` on first use: a plain HTTP/1.1 config never calls
//   these accessors, so they are never loaded. The first listener, cluster, credential or client
//   that needs one loads it synchronously (`process.getBuiltinModule`, no I/O: built-ins live in
//   the binary); later calls return the cached module.
import type * as Http from "node:http";
import type * as Http2 from "node:http2";
import type * as Https from "node:https";
import type * as Tls from "node:tls";

export const http: typeof Http = process.getBuiltinModule("node:http");

let tls: typeof Tls | undefined;
let https: typeof Https | undefined;
let http2: typeof Http2 | undefined;

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
