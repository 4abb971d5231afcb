// Stage: downstream connections. Raw `net` listeners: HTTP (head parsing, pipelining, keep-alive,
// protocol errors → 4xx/5xx and close) and plain TCP; each request becomes an Exchange.
export { HttpListener } from "./http-listener.ts";
export { TcpListener } from "./tcp-listener.ts";
export { DownstreamConnection } from "./downstream-connection.ts";
