// The global rate-limit service as one process: config, counter store, RateLimiter, the gRPC port
// (Envoy's protocol) and the HTTP port (health check, JSON). Neither proxy nor control plane: the
// sidecars' `ratelimit` filter calls it like any upstream, through the mesh.
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { Clock } from "../core/clock.ts";
import type { RateLimitConfig } from "./config.ts";
import { RateLimiter, type StoreFailureMode } from "./decide.ts";
import { addRateLimitService } from "./grpc-server.ts";
import { createRateLimitHttpServer } from "./http-server.ts";
import { MemoryStore } from "./memory-store.ts";
import { RedisStore } from "./redis-store.ts";
import type { CounterStore } from "./store.ts";

export interface RateLimitServiceOptions {
  config: RateLimitConfig;
  /** `memory`, or `redis://host:port` for counters shared by replicas. */
  store: string;
  host: string;
  grpcPort: number;
  httpPort: number;
  failureMode: StoreFailureMode;
  clock: Clock;
  log: (line: string) => void;
}

export interface RunningRateLimitService {
  grpcPort: number;
  httpPort: number;
  close(): Promise<void>;
}

export class StoreUrlError extends Error {
  readonly code = "AMIME_RATELIMIT_STORE_URL";
}

export function storeFor(spec: string, clock: Clock, log: (line: string) => void): CounterStore {
  if (spec === "memory") return new MemoryStore(clock);
  if (/^rediss?:\/\/[^/]+/.test(spec)) {
    return new RedisStore({ url: spec, onState: (state, detail) => log(state === "ready" ? `redis ready at ${detail}` : `redis unreachable: ${detail}`) });
  }
  throw new StoreUrlError(`--store must be memory or redis://HOST:PORT, not ${JSON.stringify(spec)}`);
}

export async function startRateLimitService(o: RateLimitServiceOptions): Promise<RunningRateLimitService> {
  const store = storeFor(o.store, o.clock, o.log);
  // -Infinity: the first error is always logged (the clock is monotonic, near 0 just after start).
  let lastError = Number.NEGATIVE_INFINITY;
  const limiter = new RateLimiter({
    config: o.config,
    store,
    clock: o.clock,
    failureMode: o.failureMode,
    onStoreError: (e) => {
      // One line per second at most while the store is down.
      const now = o.clock.now();
      if (now - lastError < 1000) return;
      lastError = now;
      o.log(`counter store unavailable (${e.message}); answering per failure mode ${o.failureMode}`);
    },
  });
  const grpcServer = new grpc.Server();
  addRateLimitService(grpcServer, limiter);
  let httpServer: HttpServer | undefined;
  try {
    const grpcPort = await new Promise<number>((resolve, reject) => {
      grpcServer.bindAsync(`${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    httpServer = createRateLimitHttpServer(limiter);
    const http = httpServer;
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(o.httpPort, o.host, () => {
        http.off("error", reject);
        resolve();
      });
    });
    const httpPort = (http.address() as AddressInfo).port;
    return {
      grpcPort,
      httpPort,
      async close() {
        const httpClosed = new Promise<void>((r) => http.close(() => r()));
        http.closeIdleConnections();
        await Promise.all([new Promise<void>((r) => grpcServer.tryShutdown(() => r())), httpClosed]);
        await store.close();
      },
    };
  } catch (e) {
    grpcServer.forceShutdown();
    httpServer?.close();
    await store.close();
    throw e;
  }
}
