// Binding a TCP server to host:port without the modules Node's `listen({ host, port })` loads on the
// way (issue 15). With a host, even an IP literal, Node's `Server.listen` resolves it through
// `dns.lookup` (loading `dns`, whose default resolver opens a c-ares channel), then binds through
// `listenInCluster`, which loads `cluster` (and with it `child_process`, `dgram` and their internals)
// to ask whether this process is a cluster worker: ≈ 0.75 MB of RSS in a bare Node 24 process
// with the sidecar's flags and `--no-node-snapshot`, 0.2–0.6 MB in a sidecar (docs/performance.md,
// "Session 14: the sidecar's base memory"). A sidecar binds IP literals only and is never a
// cluster worker, so where the host is an IP it binds the way `listenInCluster` does in the
// primary process: the server's `_listen2` (Node's legacy name for its own bind-and-listen step,
// kept "to avoid breaking code that wraps this method"), with the same arguments. What differs:
// the bind happens in this tick rather than after a lookup of the literal, and
// `net.server.listen`'s diagnostics channel sees no start event. Anything else (a host name, a
// bad port, a server already listening, a Node without `_listen2`) goes through `listen` and gets
// its behaviour and its errors.
import type { Server } from "node:net";
import { net } from "./builtins.ts";

type Bind = (address: string, port: number, addressType: number, backlog: number, fd: undefined, flags: number) => void;

/** Listen on host:port; resolves with the bound port (0 picks a free one), rejects with the bind error (EADDRINUSE…). */
export function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      server.off("error", onError);
      server.off("listening", onListening);
      reject(e);
    };
    const onListening = (): void => {
      server.off("error", onError);
      const a = server.address();
      resolve(typeof a === "object" && a !== null ? a.port : port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    const family = net.isIP(host);
    const bind = (server as Server & { _listen2?: Bind })._listen2;
    // Backlog 0 is Node's default (it listens with 511); flags 0: dual-stack on "::", no SO_REUSEPORT.
    if (family !== 0 && Number.isInteger(port) && port >= 0 && port <= 0xffff && !server.listening && typeof bind === "function") bind.call(server, host, port, family, 0, undefined, 0);
    else {
      try {
        server.listen({ host, port });
      } catch (e) {
        onError(e as Error);
      }
    }
  });
}
