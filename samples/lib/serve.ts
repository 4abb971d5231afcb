// The small server shell every sample app shares: listen on $PORT, log one line per request,
// answer 500 instead of crashing on a handler error, and drain on SIGTERM/SIGINT.
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** How long in-flight requests get after SIGTERM before the process exits anyway. */
const DRAIN_MS = 5000;

export function serve(name: string, defaultPort: number, handler: Handler): http.Server {
  const server = http.createServer((req, res) => {
    const started = performance.now();
    res.on("finish", () => {
      const ms = (performance.now() - started).toFixed(1);
      const rid = req.headers["x-request-id"];
      process.stdout.write(`${new Date().toISOString()} ${name} ${req.method} ${req.url} ${res.statusCode} ${ms}ms${typeof rid === "string" ? ` x-request-id=${rid}` : ""}\n`);
    });
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("bad request target\n");
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res, url))
      .catch((e: unknown) => {
        process.stderr.write(`${name}: ${req.method} ${req.url}: ${e instanceof Error ? e.stack : String(e)}\n`);
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error\n");
      });
  });
  const port = Number(process.env.PORT ?? defaultPort);
  // Unset HOST means every address, as an app in a Kubernetes pod listens.
  server.listen(port, process.env.HOST, () => {
    process.stdout.write(`${name} listening on port ${(server.address() as AddressInfo).port}\n`);
  });
  const stop = (signal: string): void => {
    process.stdout.write(`${name}: ${signal}, draining\n`);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, DRAIN_MS).unref();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return server;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
