// Socket I/O under the HTTP/1.1 codec: the request path's direct writes to a connection's handle.
export { SocketWriter, directWritesAvailable } from "./socket-writer.ts";
