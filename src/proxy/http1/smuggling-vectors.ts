// Test data (not used at run time): the classic request-smuggling vectors, shared by
// test/proxy/http1-smuggling.test.ts (our verdicts) and test/proxy/http1-differential.test.ts
// (our verdicts against Node's llhttp). Sources: PortSwigger's CL.TE / TE.CL / TE.TE write-ups,
// llhttp's test/request/*.md cases, RFC 9112 §6.1/§6.3/§11.2.
//
// `expect` is either a rejection (the ParseError code the first request must get) or the list
// of request paths the byte stream must split into, with nothing left over: an unambiguous parse.

export type VectorExpectation = { readonly reject: string } | { readonly requests: readonly string[] };

export interface SmugglingVector {
  readonly name: string;
  readonly raw: string;
  readonly expect: VectorExpectation;
}

const H = "Host: a\r\n";
const SMUGGLED = "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n";

export const SMUGGLING_VECTORS: readonly SmugglingVector[] = [
  // CL.TE / TE.CL: both framings present.
  { name: "CL.TE", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED`, expect: { reject: "E_CL_AND_TE" } },
  { name: "TE.CL", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`, expect: { reject: "E_CL_AND_TE" } },
  { name: "CL.TE with TE first and CL 0", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n`, expect: { reject: "E_CL_AND_TE" } },
  // TE.TE: obfuscated Transfer-Encoding so that one hop sees chunked and the other does not.
  { name: "TE xchunked", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, expect: { reject: "E_UNSUPPORTED_TE" } },
  { name: "TE chunkedx", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunkedx\r\n\r\n`, expect: { reject: "E_UNSUPPORTED_TE" } },
  { name: "TE with leading space (OWS, same as chunked)", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:  chunked\r\n\r\n0\r\n\r\n`, expect: { requests: ["/"] } },
  { name: "TE with tab OWS", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n`, expect: { requests: ["/"] } },
  { name: "TE chunked, identity", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n`, expect: { reject: "E_BAD_TRANSFER_ENCODING" } },
  { name: "TE identity, chunked", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity, chunked\r\n\r\n`, expect: { reject: "E_UNSUPPORTED_TE" } },
  { name: "TE duplicated (chunked twice)", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, expect: { reject: "E_BAD_TRANSFER_ENCODING" } },
  { name: "TE duplicated (chunked, then x)", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n`, expect: { reject: "E_BAD_TRANSFER_ENCODING" } },
  { name: "TE name with trailing space", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, expect: { reject: "E_BAD_HEADER" } },
  { name: "TE name with leading space (obs-fold)", raw: `POST / HTTP/1.1\r\n${H} Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, expect: { reject: "E_OBS_FOLD" } },
  { name: "TE value split over obs-fold", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, expect: { reject: "E_BAD_TRANSFER_ENCODING" } },
  { name: "TE with vertical tab", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\u000bchunked\r\n\r\n`, expect: { reject: "E_BAD_HEADER" } },
  { name: "TE with quoted value", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: "chunked"\r\n\r\n`, expect: { reject: "E_BAD_TRANSFER_ENCODING" } },
  { name: "TE with parameter", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;foo=bar\r\n\r\n`, expect: { reject: "E_BAD_TRANSFER_ENCODING" } },
  { name: "TE with NUL", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\u0000\r\n\r\n`, expect: { reject: "E_BAD_HEADER" } },
  { name: "TE with bare CR", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\rX: y\r\n\r\n`, expect: { reject: "E_BAD_LINE_ENDING" } },
  { name: "TE upper case (same as chunked)", raw: `POST / HTTP/1.1\r\n${H}TRANSFER-ENCODING: CHUNKED\r\n\r\n0\r\n\r\n`, expect: { requests: ["/"] } },
  { name: "TE empty", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello`, expect: { reject: "E_BAD_TRANSFER_ENCODING" } },
  { name: "TE in HTTP/1.0", raw: `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, expect: { reject: "E_BAD_TRANSFER_ENCODING" } },
  // Content-Length games.
  { name: "CL duplicated, different", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 39\r\n\r\n${SMUGGLED}`, expect: { reject: "E_BAD_CONTENT_LENGTH" } },
  { name: "CL duplicated, same", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, expect: { reject: "E_BAD_CONTENT_LENGTH" } },
  { name: "CL list 1,1", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 1,1\r\n\r\na`, expect: { reject: "E_BAD_CONTENT_LENGTH" } },
  { name: "CL with plus", raw: `POST / HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`, expect: { reject: "E_BAD_CONTENT_LENGTH" } },
  { name: "CL negative", raw: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, expect: { reject: "E_BAD_CONTENT_LENGTH" } },
  { name: "CL hex", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`, expect: { reject: "E_BAD_CONTENT_LENGTH" } },
  { name: "CL with inner space", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 1 0\r\n\r\n`, expect: { reject: "E_BAD_CONTENT_LENGTH" } },
  { name: "CL name with trailing space", raw: `POST / HTTP/1.1\r\n${H}Content-Length : 3\r\n\r\nabc`, expect: { reject: "E_BAD_HEADER" } },
  { name: "CL overflow", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 18446744073709551617\r\n\r\n`, expect: { reject: "E_BAD_CONTENT_LENGTH" } },
  { name: "CL leading zeros (unambiguous)", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 0003\r\n\r\nabc${SMUGGLED}`, expect: { requests: ["/", "/admin"] } },
  { name: "CL body then pipelined request", raw: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello${SMUGGLED}`, expect: { requests: ["/", "/admin"] } },
  { name: "GET with CL body is framed by CL", raw: `GET / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello${SMUGGLED}`, expect: { requests: ["/", "/admin"] } },
  // Chunk-size games (the head is fine; the body decides).
  { name: "chunk size 0x5", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, expect: { reject: "E_BAD_CHUNK" } },
  { name: "chunk size with extensions", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b;c="d"\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, expect: { requests: ["/", "/admin"] } },
  { name: "chunk size huge", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n`, expect: { reject: "E_CHUNK_TOO_LARGE" } },
  { name: "chunk size 2^64+5 (wraps in 64-bit parsers)", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n`, expect: { reject: "E_CHUNK_TOO_LARGE" } },
  { name: "chunk bare LF terminator", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n`, expect: { reject: "E_BAD_CHUNK" } },
  { name: "chunk data then bare CR", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\rX0\r\n\r\n`, expect: { reject: "E_BAD_CHUNK" } },
  { name: "chunk data then bare LF", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`, expect: { reject: "E_BAD_CHUNK" } },
  { name: "chunk size with space, no semicolon", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n`, expect: { reject: "E_BAD_CHUNK" } },
  { name: "chunk extension with bare LF inside quotes", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="\n"\r\nhello\r\n0\r\n\r\n`, expect: { reject: "E_BAD_CHUNK" } },
  { name: "chunk data longer than declared", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`, expect: { reject: "E_BAD_CHUNK" } },
  { name: "chunked body then pipelined request", raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n${SMUGGLED}`, expect: { requests: ["/", "/admin"] } },
  // Line endings, NUL, folding, request line.
  { name: "bare LF head", raw: `GET / HTTP/1.1\nHost: a\n\n`, expect: { reject: "E_BAD_LINE_ENDING" } },
  { name: "bare LF hiding a header", raw: `GET / HTTP/1.1\r\nHost: a\nTransfer-Encoding: chunked\r\n\r\n`, expect: { reject: "E_BAD_LINE_ENDING" } },
  { name: "bare CR hiding a header", raw: `GET / HTTP/1.1\r\nHost: a\rTransfer-Encoding: chunked\r\n\r\n`, expect: { reject: "E_BAD_LINE_ENDING" } },
  { name: "NUL in header value", raw: `GET / HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`, expect: { reject: "E_BAD_HEADER" } },
  { name: "NUL in header name", raw: `GET / HTTP/1.1\r\n${H}X\u0000A: b\r\n\r\n`, expect: { reject: "E_BAD_HEADER" } },
  { name: "obs-fold continuation", raw: `GET / HTTP/1.1\r\n${H}X-A: a\r\n\tb\r\n\r\n`, expect: { reject: "E_OBS_FOLD" } },
  { name: "two Host headers", raw: `GET / HTTP/1.1\r\nHost: a\r\nHost: evil\r\n\r\n`, expect: { reject: "E_BAD_HOST" } },
  { name: "missing Host", raw: `GET / HTTP/1.1\r\n\r\n`, expect: { reject: "E_MISSING_HOST" } },
  { name: "Host with path", raw: `GET / HTTP/1.1\r\nHost: a/admin\r\n\r\n`, expect: { reject: "E_BAD_HOST" } },
  { name: "space in target (smuggled version)", raw: `GET /a HTTP/1.1 /b HTTP/1.1\r\n${H}\r\n`, expect: { reject: "E_BAD_REQUEST_LINE" } },
  { name: "lower-case version", raw: `GET / http/1.1\r\n${H}\r\n`, expect: { reject: "E_BAD_REQUEST_LINE" } },
  { name: "HTTP/2.0 request line", raw: `GET / HTTP/2.0\r\n${H}\r\n`, expect: { reject: "E_VERSION" } },
  { name: "HTTP/1.2 request line", raw: `GET / HTTP/1.2\r\n${H}\r\n`, expect: { reject: "E_VERSION" } },
  { name: "pipelined GETs", raw: `GET / HTTP/1.1\r\n${H}\r\n${SMUGGLED}`, expect: { requests: ["/", "/admin"] } },
  { name: "leading CRLF before request", raw: `\r\nGET / HTTP/1.1\r\n${H}\r\n`, expect: { requests: ["/"] } },
  { name: "absolute-form with userinfo", raw: `GET http://a@evil/ HTTP/1.1\r\n${H}\r\n`, expect: { reject: "E_BAD_REQUEST_LINE" } },
];
