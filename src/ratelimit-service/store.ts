// Where the service keeps its counters: in this process (one replica) or in Redis (replicas
// share counters). Both count the same keys with the same fixed windows (window.ts).

export interface Increment {
  key: string;
  hits: number;
  /** Seconds the counter lives after its first hit. */
  ttlSeconds: number;
}

export interface CounterStore {
  /** Adds each increment and returns each counter's value after it; rejects with StoreUnavailableError. */
  increment(increments: readonly Increment[]): Promise<number[]>;
  close(): Promise<void>;
}

export class StoreUnavailableError extends Error {
  readonly code = "AMIME_RATELIMIT_STORE";
}
