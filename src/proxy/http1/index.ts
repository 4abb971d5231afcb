// Stage: the sidecar's wire codec for HTTP/1.1 — strict, allocation-light parsing of request and
// response heads, chunked bodies, and serialization of the heads the proxy forwards. Pure: no
// node:* imports (Buffer is a global). The proxy engine (listener, pool, forwarding) sits on top.
// What is accepted and rejected, and why: docs/http1-codec.md.

export type {
  ChunkDataCallback,
  ChunkedLimits,
  HeadLimits,
  HeaderNameSet,
  HeaderView,
  OutboundFraming,
  RequestBodyFraming,
  RequestHead,
  ResponseBodyFraming,
  ResponseHead,
  SerializeRequestOptions,
  SerializeResponseOptions,
} from "./types.ts";
export { DEFAULT_CHUNKED_LIMITS, DEFAULT_HEAD_LIMITS } from "./types.ts";
export { ParseError, statusForUpstreamError } from "./parse-error.ts";
export type { ParseErrorCode } from "./parse-error.ts";
export { parseRequestHead } from "./request-head.ts";
export { parseResponseHead } from "./response-head.ts";
export { checkHeaderLines, chooseResponseFraming, serializeLocalResponse, serializeRequestHead, serializeResponseHead } from "./serialize.ts";
export type { ResponseFramingPlan } from "./serialize.ts";
export { CHUNK_END, ChunkedDecoder, LAST_CHUNK, encodeChunk, encodeChunkHeader } from "./chunked.ts";
export { compileHeaderNames } from "./header-names.ts";
export { HeaderLineWriter } from "./line-writer.ts";
export { reasonPhrase } from "./reason-phrase.ts";
