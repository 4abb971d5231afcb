// Counters in Redis, shared by every replica: one pipeline per request with INCRBY then EXPIRE
// per key, as the reference service's fixed-window cache (src/redis/fixed_cache_impl.go). While
// Redis is unreachable, commands fail at once (no offline queue) and the service answers per its
// failure mode; ioredis keeps reconnecting in the background.
import { Redis } from "ioredis";
import { StoreUnavailableError, type CounterStore, type Increment } from "./store.ts";

export interface RedisStoreOptions {
  /** `redis://host:port` (ioredis accepts redis://user:pass@host:port/db too). */
  url: string;
  /** Called on connection state changes, for the service's log. */
  onState?: (state: "ready" | "down", detail: string) => void;
}

export class RedisStore implements CounterStore {
  private readonly redis: Redis;

  constructor(options: RedisStoreOptions) {
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      // Reconnect quickly at first, then every second: the service must notice Redis back soon.
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
    let down = false;
    this.redis.on("ready", () => {
      down = false;
      options.onState?.("ready", options.url);
    });
    // Without an "error" listener ioredis prints every failed reconnect; report once per outage.
    this.redis.on("error", (e: Error) => {
      if (!down) options.onState?.("down", e.message);
      down = true;
    });
  }

  async increment(increments: readonly Increment[]): Promise<number[]> {
    if (this.redis.status !== "ready") throw new StoreUnavailableError(`redis is ${this.redis.status}`);
    const pipeline = this.redis.pipeline();
    for (const inc of increments) pipeline.incrby(inc.key, inc.hits).expire(inc.key, inc.ttlSeconds);
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (e) {
      throw new StoreUnavailableError(`redis: ${(e as Error).message}`);
    }
    if (results === null) throw new StoreUnavailableError("redis: pipeline aborted");
    const out: number[] = [];
    for (let i = 0; i < increments.length; i++) {
      const [err, value] = results[i * 2] ?? [new Error("missing reply"), null];
      if (err !== null) throw new StoreUnavailableError(`redis: ${err.message}`);
      out.push(Number(value));
    }
    return out;
  }

  /** Resolves once connected (or rejects after timeoutMs); the service also starts without Redis. */
  ready(timeoutMs: number): Promise<void> {
    if (this.redis.status === "ready") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off("ready", onReady);
        reject(new StoreUnavailableError(`redis not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once("ready", onReady);
    });
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}
