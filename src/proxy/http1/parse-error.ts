// Errors of the HTTP/1.1 codec. `code` is stable (tests, access logs and the proxy switch on it);
// `status` is what the proxy answers a downstream client with. For responses coming from an
// upstream, the proxy maps every ParseError to 502 (see `fromUpstream`).

export type ParseErrorCode =
  /** Head bigger than HeadLimits.maxHeadBytes → 431. */
  | "E_HEAD_TOO_LARGE"
  /** More header lines than HeadLimits.maxHeaders → 431. */
  | "E_TOO_MANY_HEADERS"
  /** Malformed request line: method token, request-target, spacing → 400. */
  | "E_BAD_REQUEST_LINE"
  /** Malformed status line (responses) → 502 at the proxy. */
  | "E_BAD_STATUS_LINE"
  /** Version other than HTTP/1.0 or HTTP/1.1 (HTTP/2.0, HTTP/1.2, …) → 505. */
  | "E_VERSION"
  /** Invalid header name token, whitespace before the colon, CTL/NUL/bare CR in a value → 400. */
  | "E_BAD_HEADER"
  /** Line folding (obs-fold) → 400. */
  | "E_OBS_FOLD"
  /** Bare LF (or a lone CR) as a line ending → 400. */
  | "E_BAD_LINE_ENDING"
  /** Malformed or conflicting Content-Length → 400. */
  | "E_BAD_CONTENT_LENGTH"
  /** Content-Length together with Transfer-Encoding → 400. */
  | "E_CL_AND_TE"
  /** Transfer-Encoding whose final coding is not chunked, or chunked applied twice → 400. */
  | "E_BAD_TRANSFER_ENCODING"
  /** Transfer-Encoding with a coding the proxy does not implement → 501. */
  | "E_UNSUPPORTED_TE"
  /** HTTP/1.1 request without Host → 400. */
  | "E_MISSING_HOST"
  /** More than one Host header, or a Host that is not a valid authority → 400. */
  | "E_BAD_HOST"
  /** Malformed chunked body (size line, extension, CRLF, trailer) → 400. */
  | "E_BAD_CHUNK"
  /** Chunk size over ChunkedLimits.maxChunkSize / 2^53, or extensions/trailers too long → 400 (413-ish, but framing is broken). */
  | "E_CHUNK_TOO_LARGE";

const STATUS: Readonly<Record<ParseErrorCode, number>> = {
  E_HEAD_TOO_LARGE: 431,
  E_TOO_MANY_HEADERS: 431,
  E_BAD_REQUEST_LINE: 400,
  E_BAD_STATUS_LINE: 502,
  E_VERSION: 505,
  E_BAD_HEADER: 400,
  E_OBS_FOLD: 400,
  E_BAD_LINE_ENDING: 400,
  E_BAD_CONTENT_LENGTH: 400,
  E_CL_AND_TE: 400,
  E_BAD_TRANSFER_ENCODING: 400,
  E_UNSUPPORTED_TE: 501,
  E_MISSING_HOST: 400,
  E_BAD_HOST: 400,
  E_BAD_CHUNK: 400,
  E_CHUNK_TOO_LARGE: 400,
};

/** A protocol error found by the HTTP/1.1 codec (layer: proxy/http1). */
export class ParseError extends Error {
  readonly code: ParseErrorCode;
  /** Status the proxy sends downstream for a bad request (an upstream's bad response is always 502). */
  readonly status: number;
  /** Byte offset (relative to the start passed to the parser) where the problem was found, if known. */
  readonly offset: number;

  constructor(code: ParseErrorCode, message: string, offset = -1) {
    super(`${code}: ${message}`);
    this.name = "ParseError";
    this.code = code;
    this.status = STATUS[code];
    this.offset = offset;
  }
}

/** Status to answer downstream when the bad message came from the upstream. */
export function statusForUpstreamError(_err: ParseError): number {
  return 502;
}
