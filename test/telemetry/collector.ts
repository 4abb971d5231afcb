// A control-plane-like HTTP server in a test, with the TelemetryService mounted the way the real
// server mounts it (one line).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TelemetryService, type TelemetryServiceOptions } from "../../src/control-plane/telemetry/index.ts";

export interface Collector {
  service: TelemetryService;
  url: string;
  close(): Promise<void>;
}

export async function startCollector(opts: TelemetryServiceOptions = {}): Promise<Collector> {
  const service = new TelemetryService(opts);
  const server: Server = createServer((req, res) => {
    if (service.handle(req, res)) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    service,
    url,
    close: () =>
      new Promise<void>((r) => {
        service.stop();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
