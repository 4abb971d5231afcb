// Amime's own HTTP/2 server framing for downstream connections (the h2c path of H2Downstream):
// H2Connection reads and writes frames over a socket, each request stream is an H2ServerStream
// (the DownstreamStream H2Exchange uses). HPACK comes from ../hpack.
export { H2Connection, type H2ConnectionHandler, type H2ConnectionOptions } from "./connection.ts";
export { H2ServerStream } from "./server-stream.ts";
