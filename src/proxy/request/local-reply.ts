// Replies the proxy writes itself (no route, no healthy upstream, timeout, fault abort, direct
// response, redirect, CORS preflight, bad request): one Buffer, one socket write. Bodies follow
// Envoy's texts so clients and tests that grep them keep working.
import { Buffer } from "../../core/builtins.ts";
import { reasonPhrase } from "../http1/reason-phrase.ts";

export const BODY_NO_HEALTHY_UPSTREAM = "no healthy upstream";
export const BODY_CONNECT_FAILURE = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
export const BODY_CONNECTION_TERMINATION =
  "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
export const BODY_OVERFLOW = "upstream connect error or disconnect/reset before headers. reset reason: overflow";
export const BODY_TIMEOUT = "upstream request timeout";
export const BODY_FAULT_ABORT = "fault filter abort";
export const BODY_PROTOCOL_ERROR = "upstream protocol error";

export interface LocalReplyOptions {
  status: number;
  body?: string | undefined;
  contentType?: string;
  /** Extra header lines, already validated (name, value). */
  headers?: ReadonlyArray<readonly [string, string]> | undefined;
  close: boolean;
  /** HEAD requests get the headers (with the body's length) but no body. */
  head?: boolean;
  /** HTTP/1.0 clients with keep-alive need `Connection: keep-alive` to keep the connection. */
  http10KeepAlive?: boolean;
}

export function localReply(o: LocalReplyOptions): Buffer {
  const body = o.body ?? "";
  const bodyLen = Buffer.byteLength(body);
  let s = `HTTP/1.1 ${o.status} ${reasonPhrase(o.status)}\r\n`;
  if (o.status !== 204 && o.status !== 304) {
    s += `content-length: ${bodyLen}\r\n`;
    if (bodyLen > 0) s += `content-type: ${o.contentType ?? "text/plain"}\r\n`;
  }
  if (o.headers !== undefined) {
    for (const [name, value] of o.headers) s += `${name}: ${value}\r\n`;
  }
  if (o.close) s += "connection: close\r\n";
  else if (o.http10KeepAlive === true) s += "connection: keep-alive\r\n";
  s += "\r\n";
  if (bodyLen > 0 && o.head !== true && o.status !== 204 && o.status !== 304) s += body;
  return Buffer.from(s, "utf8");
}
