// The sidecar's HTTP/1.1 codec: shared types (pure — no node:* imports; Buffer is a global).
//
// Shape of the API (implemented in the sibling files, re-exported from index.ts):
//
//   parseRequestHead(buf, start, end, limits)          → RequestHead | ParseError | null   (request-head.ts)
//   parseResponseHead(buf, start, end, method, limits) → ResponseHead | ParseError | null  (response-head.ts)
//   serializeRequestHead(head, opts)                    → Buffer                            (serialize.ts)
//   serializeResponseHead(head, opts)                   → Buffer                            (serialize.ts)
//   new ChunkedDecoder(limits?).execute(buf, s, e, onData?) → consumed bytes | -1           (chunked.ts)
//   encodeChunkHeader(n) / LAST_CHUNK                    chunked re-framing helpers          (chunked.ts)
//   compileHeaderNames(["x-forwarded-for", …])          → HeaderNameSet (for `drop`)        (header-names.ts)
//   new HeaderLineWriter().reset().line(…)               per-message lines for `lines`       (line-writer.ts)
//
// `null` from a head parser means "incomplete, call again with more bytes" (on the grown buffer,
// same start). A head is scanned in one forward pass; errors are reported as soon as the bytes
// proving them are there, and the verdict never depends on how the bytes were split into reads.
// Heads still incomplete beyond 4 KiB are re-scanned only once their CRLFCRLF has arrived (a
// native search), so a head trickling in byte by byte stays cheap.
//
// Everything returned outlives the caller's buffer: a head copies its bytes out (the proxy reads
// into a reused buffer that the next read overwrites) — except a response head parsed as a view
// (parseResponseHead's `view`), whose headers are valid until the buffer is reused.

import type { HeaderLineWriter } from "./line-writer.ts";

/** Limits on a message head. Defaults follow Envoy: max_request_headers_kb = 60, 100 headers. */
export interface HeadLimits {
  /** Bytes of request/status line + header lines + the final CRLFCRLF. Over → 431 (requests). */
  readonly maxHeadBytes: number;
  /** Number of header field lines. Over → 431 (requests). */
  readonly maxHeaders: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = Object.freeze({ maxHeadBytes: 60 * 1024, maxHeaders: 100 });

/** How a request body is delimited (RFC 9112 §6.3, request side). */
export type RequestBodyFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" };

/** How a response body is delimited (RFC 9112 §6.3): "close" = read until the upstream closes. */
export type ResponseBodyFraming = RequestBodyFraming | { readonly kind: "close" };

/**
 * The framing the proxy writes on an outbound head.
 * - "none": no body follows. For a response (HEAD, 204, 304) the original Content-Length line, if
 *   any, is forwarded verbatim because it is metadata about the representation.
 * - "length": writes `Content-Length: n`.
 * - "chunked": writes `Transfer-Encoding: chunked`.
 * - "close": (responses only) no framing header; the body ends when the proxy closes the connection.
 * In every other case the original Content-Length / Transfer-Encoding lines are never forwarded.
 */
export type OutboundFraming = ResponseBodyFraming;

/**
 * Read access to the header section of a parsed head, without a per-header object: the head's
 * bytes are kept in one Buffer and the header positions in an offsets table.
 * Names are compared case-insensitively, by length first; pass `name` in lower case.
 */
export interface HeaderView {
  /** Number of header field lines. */
  readonly count: number;
  /** Value of the first field named `name` (lower case), OWS-trimmed, or undefined. */
  get(name: string): string | undefined;
  /** All values of fields named `name`, in order (allocates; not for the hot path). */
  getAll(name: string): string[];
  has(name: string): boolean;
  /** Field name as received (original case). */
  nameAt(i: number): string;
  /** Field value, OWS-trimmed. */
  valueAt(i: number): string;
  /** Index of the first field named `name` (lower case), or -1. */
  indexOf(name: string): number;
  /** Calls cb for every end-to-end field (hop-by-hop and Connection-named fields skipped). */
  forEachForwarded(cb: (name: string, value: string) => void, drop?: HeaderNameSet): void;
  /** forEachForwarded with lower-case names, reused from `names` (by position) when they match. */
  forEachForwardedLower(cb: (name: string, value: string) => void, names: string[]): void;
}

/** A precompiled set of lower-case header names (see compileHeaderNames in header-names.ts). */
export interface HeaderNameSet {
  /** True if the bytes buf[start, end) are one of the names, compared case-insensitively. */
  matches(buf: Buffer, start: number, end: number): boolean;
  has(lowerName: string): boolean;
}

export interface RequestHead extends HeaderView {
  /** Interned for the common methods (GET, POST, …), so `===` comparisons are cheap. */
  readonly method: string;
  /** The request-target exactly as received. */
  readonly target: string;
  /** Origin-form path + query (`/p?q`); for absolute-form the path part (`/` if empty); `*` for OPTIONS *. */
  readonly path: string;
  /** The absolute-form authority if any (wins per RFC 9112 §3.2.2), else the Host header value, else "". */
  readonly authority: string;
  /** True when the request-target was absolute-form (`http://host:port/p`). */
  readonly absoluteForm: boolean;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: 0 | 1;
  /** 1.1: true unless `Connection: close`; 1.0: only with `Connection: keep-alive`. */
  readonly keepAlive: boolean;
  readonly framing: RequestBodyFraming;
  /** Lower-case Upgrade protocol token(s) (e.g. "websocket") when Connection lists `upgrade`, else null. */
  readonly upgrade: string | null;
  /** `Expect: 100-continue` was sent. */
  readonly expectContinue: boolean;
  /** Bytes of the head, including the final CRLFCRLF: the body (or next request) starts at start + headLength. */
  readonly headLength: number;
}

export interface ResponseHead extends HeaderView {
  readonly status: number;
  readonly reason: string;
  readonly versionMinor: 0 | 1;
  readonly framing: ResponseBodyFraming;
  /** False on `Connection: close`, on HTTP/1.0 without keep-alive, and when framing is "close". */
  readonly keepAlive: boolean;
  /** 1xx other than 101: the final response follows on the same connection. */
  readonly isInterim: boolean;
  /** For 101 Switching Protocols: the lower-case Upgrade token, else null. */
  readonly upgrade: string | null;
  readonly headLength: number;
}

/** Options for serializeRequestHead: builds the upstream head as ONE Buffer. */
export interface SerializeRequestOptions {
  /** Defaults to head.method. */
  readonly method?: string;
  /** Defaults to head.path (origin-form: the upstream never sees absolute-form). */
  readonly path?: string;
  /** Host header value to write (the proxy may rewrite it). Defaults to head.authority. */
  readonly host?: string;
  /** Lower-case names of end-to-end headers to drop too (e.g. x-forwarded-for, which the proxy re-sets). */
  readonly drop?: HeaderNameSet;
  /**
   * Header lines (each ending in CRLF) written right after the forwarded ones, NOT checked: only
   * for lines the caller composed from values that are already valid (the proxy's own headers,
   * values parsed by this codec, config edits checked by checkHeaderLines). Saves a per-request
   * character check and string building. A HeaderLineWriter's bytes are copied as they are.
   */
  readonly lines?: string | HeaderLineWriter;
  /** Headers appended after the forwarded ones (and after `lines`), checked and written as given. */
  readonly extra?: ReadonlyArray<readonly [string, string]>;
  /** Body framing to announce; "close" is invalid for a request. Defaults to head.framing. */
  readonly framing?: RequestBodyFraming;
  /** Forward Upgrade + `Connection: upgrade` (WebSocket pass-through). Default false. */
  readonly passUpgrade?: boolean;
  /** Write `Connection: close` (else nothing: HTTP/1.1 keep-alive is the default upstream). */
  readonly close?: boolean;
  /** Bytes appended after the head in the same Buffer (one write for a small body). */
  readonly body?: Buffer;
}

/** Options for serializeResponseHead (the proxy always speaks HTTP/1.1 on its status line). */
export interface SerializeResponseOptions {
  /** Defaults to head.status / head.reason. */
  readonly status?: number;
  readonly reason?: string;
  readonly drop?: HeaderNameSet;
  /** Pre-checked header lines, as SerializeRequestOptions.lines (written before `extra`). */
  readonly lines?: string | HeaderLineWriter;
  /** Proxy headers (x-envoy-upstream-service-time, …) appended after the forwarded ones. */
  readonly extra?: ReadonlyArray<readonly [string, string]>;
  /**
   * Framing to announce downstream. Typical choices (see chooseResponseFraming in serialize.ts):
   * upstream "close" → "chunked" for an HTTP/1.1 downstream; upstream "chunked" → "close" for an
   * HTTP/1.0 downstream (the proxy then de-chunks with ChunkedDecoder's onData). Defaults to head.framing.
   */
  readonly framing?: OutboundFraming;
  /** Write `Connection: close`. For an HTTP/1.0 downstream with keepAlive the serializer writes `Connection: keep-alive`. */
  readonly close?: boolean;
  /** Downstream HTTP version minor (0 or 1); default 1. */
  readonly downstreamMinor?: 0 | 1;
  /** Forward Upgrade + `Connection: upgrade` (101 responses). Default: head.upgrade !== null. */
  readonly passUpgrade?: boolean;
  readonly body?: Buffer;
}

/** Limits for ChunkedDecoder. */
export interface ChunkedLimits {
  /** Max bytes of chunk extensions on one size line (default 4096). */
  readonly maxExtensionBytes: number;
  /** Max bytes of the trailer section (default 16 KiB). */
  readonly maxTrailerBytes: number;
  /** Max size of a single chunk (default 2^53 - 1, i.e. only overflow is rejected). */
  readonly maxChunkSize: number;
}

export const DEFAULT_CHUNKED_LIMITS: ChunkedLimits = Object.freeze({
  maxExtensionBytes: 4096,
  maxTrailerBytes: 16 * 1024,
  maxChunkSize: Number.MAX_SAFE_INTEGER,
});

/** Called by ChunkedDecoder with a data segment (a view into the caller's buffer, valid only during the call). */
export type ChunkDataCallback = (buf: Buffer, start: number, end: number) => void;
