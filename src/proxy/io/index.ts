// Socket I/O under the HTTP/1.1 codec: direct writes to a connection's handle, reads into a shared buffer.
export { SocketWriter, directWritesAvailable } from "./socket-writer.ts";
export { readIntoShared, SHARED_READ_BUFFER, sharedTlsReadsAvailable, type SharedReads } from "./shared-reads.ts";
