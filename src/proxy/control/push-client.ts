// PushClient: the sidecar's end of the control plane's push protocol (src/model/wire.ts). Holds a
// stream open to GET /xds/v1/stream?node=…, applies each pushed config (starting the Sidecar on
// the first one), answers every push with an ACK or a NACK, and when the control plane goes away
// keeps the sidecar serving its last good config while it reconnects with jittered exponential
// backoff; on reconnect the control plane resends the current config (resync). Given several
// control-plane replicas, it starts on a random one (a fleet spreads over them) and moves to the
// next when its stream breaks, or at once (after a short jitter) when the replica says `drain`.
// It asks for delta push (`delta=1`): its full state once per stream, then only what changed,
// folded into the resources it holds (resource-state.ts); a control plane without delta push
// sends whole configs, which it takes as before. The stream's connection: push-stream.ts; the ACKs:
// ack-sender.ts.
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.ts";
import { systemRandom, type Random } from "../../core/random.ts";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { RESOURCE_TYPES, type ResourceType } from "../../model/resources.ts";
import type { PushMessage } from "../../model/wire.ts";
import { AckSender } from "./ack-sender.ts";
import { openPushStream, type PushStream } from "./push-stream.ts";
import { ResourceState } from "./resource-state.ts";
import { Sidecar, type SidecarOptions } from "../sidecar.ts";

export interface PushClientOptions {
  /** Control plane base URL, e.g. https://127.0.0.1:15010 */
  url: string;
  /** Several replicas of the control plane (`url` is then ignored); tried in turn. */
  urls?: readonly string[];
  /** The mesh root(s) the control plane's certificate must chain to (PEM); an https URL needs it. */
  ca?: string | (() => string | undefined);
  /** Node id (`sidecar~<name>.<namespace>`), as the runtime registered it. */
  node: string;
  /**
   * This proxy's credential (the runtime hands one to each process; sent as a Bearer token). A
   * function is asked again on every (re)connect (a Kubernetes projected token is rotated by the
   * kubelet); ACKs reuse what the current stream was opened with.
   */
  token?: string | (() => string);
  clock?: Clock;
  random?: Random;
  /** Options for the Sidecar started on the first config. */
  sidecar?: SidecarOptions;
  /** First reconnect delay (default 250 ms), doubling up to backoffMaxMs (default 5 s), jittered. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** No line (config or ping) for this long = the stream is dead (default 45 s: three missed pings). */
  idleTimeoutMs?: number;
  /** Connect, TLS handshake and the response head within this long, or the attempt is given up (default 10 s, Envoy's connect timeout). */
  openTimeoutMs?: number;
  log?: (line: string) => void;
  /** Called after each push was applied or rejected. */
  onPush?: (r: { version: string; accepted: boolean; error?: string }) => void;
  /**
   * A synchronous major collection (V8's `gc`, with the sidecar's --expose-gc), run around the parse
   * of a line of BIG_LINE characters or more (a full state: at start and after a reconnect): once
   * before the parse (the received pieces the line was joined from) and once before the line's
   * config is applied (the line's text), so that the start's peak holds the line once (issue 15).
   */
  collect?: () => void;
}

/** A line this long is a full state or a whole config (the 1,000-service one: 4.8 M characters), not a change. */
export const BIG_LINE = 1 << 20;

/** A pushed change waiting to be applied: its config is built when it is applied (after folding). */
interface Pending {
  version: string;
  nonce: string;
  config: () => ProxyConfig;
  /**
   * The sidecar keeps the config rather than a copy: a whole config parsed for this apply alone, or
   * a delta's config, which is made of the held resources themselves (one copy of the config, not two:
   * the sidecar's completions — shared strings, Istio's defaults — leave their values as they were).
   */
  owned: boolean;
  /** Delta: the types it changed (for counters). */
  types: readonly ResourceType[];
  /** The replica it came from (the ACK goes there). */
  from: string;
  /** Why it cannot be applied at all (a malformed delta): NACKed as is. */
  error?: string;
  /** It came in a line of BIG_LINE characters or more: collect its text's garbage before applying it. */
  big?: boolean;
}

/** Counters of one resource type (admin /stats `control_plane.xds.<type>.*`; Envoy's cds/lds update_* stats). */
export interface TypeCounters {
  update_attempt: number;
  update_success: number;
  update_rejected: number;
  resources_updated: number;
  resources_removed: number;
}

/** Counters of the stream (admin /stats `control_plane.xds.*`). */
export interface StreamCounters {
  /** Delta messages carrying the full state (one per stream). */
  full_state: number;
  /** Delta messages carrying changes only. */
  delta: number;
  /** Whole configs (a control plane without delta push). */
  config: number;
  update_rejected: number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential from `baseMs`, capped at `maxMs`,
 * with equal jitter — never 0 ms, and a fleet that lost the same control plane spreads its
 * reconnects over half of the window instead of arriving together.
 */
export function reconnectDelay(attempt: number, baseMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return ceiling / 2 + random.next() * (ceiling / 2);
}

export class PushClient {
  sidecar: Sidecar | null = null;
  /** A stream is open and answered 200. */
  connected = false;
  /** Streams opened successfully so far (reconnects = connects - 1). */
  connects = 0;
  /** The last reconnect delay chosen (ms), for tests and logs. */
  lastDelayMs = 0;
  /** The resources this stream brought (delta push). */
  readonly resources = new ResourceState();
  readonly counters: StreamCounters = { full_state: 0, delta: 0, config: 0, update_rejected: 0 };
  readonly typeCounters = new Map<ResourceType, TypeCounters>(RESOURCE_TYPES.map((t) => [t, { update_attempt: 0, update_success: 0, update_rejected: 0, resources_updated: 0, resources_removed: 0 }]));
  /** The first config was applied and the sidecar is serving. */
  readonly ready: Promise<Sidecar>;
  private readonly opts: PushClientOptions;
  private readonly clock: Clock;
  private readonly random: Random;
  private stream: PushStream | null = null;
  private retryTimer: TimerHandle | null = null;
  private idleTimer: TimerHandle | null = null;
  private attempt = 0;
  private closed = false;
  /** The first config, rejected before any sidecar ran (a listener's port taken): tried again on this timer. */
  private startRetry: TimerHandle | null = null;
  private startFailures = 0;
  /** The nonce of the config being tried again (its NACK went once). */
  private retryNonce: string | null = null;
  /** The newest change not applied yet. */
  private latest: Pending | null = null;
  private applying: Promise<void> | null = null;
  private readonly urls: readonly string[];
  private readonly acks: AckSender;
  /** The replica the stream is (or is next) opened to, an index into `urls`. */
  private at: number;
  private resolveReady!: (s: Sidecar) => void;
  private rejectReady!: (e: Error) => void;

  constructor(opts: PushClientOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? systemRandom;
    this.urls = opts.urls !== undefined && opts.urls.length > 0 ? opts.urls : [opts.url];
    this.at = this.urls.length > 1 ? this.random.int(this.urls.length) : 0;
    this.acks = new AckSender({ clock: this.clock, ca: () => this.ca(), auth: () => this.auth() });
    this.ready = new Promise<Sidecar>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody may be waiting on `ready` (e.g. a client closed early); that is not an unhandled error.
    this.ready.catch(() => {});
  }

  /** Open the stream (and keep reopening it until close()). */
  start(): this {
    this.connect();
    return this;
  }

  /** Stop reconnecting, close the stream, then close the sidecar gracefully. */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    this.retryTimer?.cancel();
    this.idleTimer?.cancel();
    this.startRetry?.cancel();
    this.stream?.destroy();
    this.stream = null;
    this.acks.close();
    this.rejectReady(new Error("push client closed before the first config"));
    await this.applying;
    await this.sidecar?.close(graceMs);
  }

  /** The control plane the stream is open to (or is next opened to). */
  get controlPlane(): string {
    return this.urls[this.at]!;
  }

  /** The credential the current stream was opened with (a token function's last answer). */
  private streamToken: string | undefined;

  private connect(): void {
    if (this.closed) return;
    const base = this.controlPlane;
    const url = new URL(`/xds/v1/stream?node=${encodeURIComponent(this.opts.node)}&delta=1`, base);
    if (typeof this.opts.token === "function") this.streamToken = this.opts.token();
    let done = false;
    const lost = (why: string): void => {
      if (done) return;
      done = true;
      this.idleTimer?.cancel();
      if (this.stream === stream) this.stream = null;
      const from = this.controlPlane;
      // Another replica next (a broken stream says little about the others).
      if (this.urls.length > 1) this.at = (this.at + 1) % this.urls.length;
      const wasConnected = this.connected;
      if (wasConnected && !this.closed) this.opts.log?.(`control plane stream lost (${why}); serving the last good config, reconnecting${this.urls.length > 1 ? ` to ${this.controlPlane} (was ${from})` : ""}`);
      this.connected = false;
      stream.destroy();
      this.scheduleReconnect();
      // A stream that never opened says so too (Envoy logs each failed xDS attempt): never silently waiting.
      if (!wasConnected && !this.closed) this.opts.log?.(`control plane ${from}: no stream (${why}); ${this.sidecar === null ? "no config yet, " : ""}trying again in ${Math.round(this.lastDelayMs)} ms${this.urls.length > 1 ? ` at ${this.controlPlane}` : ""}`);
    };
    const stream = openPushStream(url, { accept: "application/x-ndjson", ...this.auth() }, this.ca(), {
      onOpen: () => {
        this.connected = true;
        this.connects++;
        this.armIdle(stream);
      },
      onBytes: () => {
        if (this.connected) this.armIdle(stream);
      },
      onLine: (line) => {
        if (line.length >= BIG_LINE) this.opts.collect?.();
        if (line.trim() !== "") this.onLine(line, base, () => lost("drained"));
      },
      onLost: (why, refused) => {
        // 401/403: say why (a missing or foreign credential does not fix itself); keep retrying.
        if (refused !== undefined && (refused.status === 401 || refused.status === 403)) this.opts.log?.(`control plane refused the stream: HTTP ${refused.status} ${refused.body.trim()}`);
        lost(why);
      },
    });
    this.stream = stream;
    // Until the response head: a control plane that accepted the connection and never answers (stopped, overloaded, a
    // dead peer without a reset) must not hold the stream for good. onOpen replaces this timer with the idle one.
    this.idleTimer?.cancel();
    const openMs = this.opts.openTimeoutMs ?? 10_000;
    this.idleTimer = this.clock.setTimeout(() => stream.destroy(new Error(`no answer within ${openMs} ms`)), openMs);
  }

  private armIdle(stream: PushStream): void {
    this.idleTimer?.cancel();
    this.idleTimer = this.clock.setTimeout(() => {
      this.opts.log?.("control plane stream idle; reconnecting");
      stream.destroy(new Error("idle"));
    }, this.opts.idleTimeoutMs ?? 45_000);
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = reconnectDelay(this.attempt++, this.opts.backoffBaseMs ?? 250, this.opts.backoffMaxMs ?? 5000, this.random);
    this.lastDelayMs = delay;
    this.retryTimer?.cancel();
    this.retryTimer = this.clock.setTimeout(() => this.connect(), delay);
  }

  private onLine(line: string, from: string, drained: () => void): void {
    let msg: PushMessage;
    try {
      msg = JSON.parse(line) as PushMessage;
    } catch {
      this.opts.log?.(`ignoring a malformed line from the control plane: ${line.slice(0, 80)}`);
      return;
    }
    // Any well-formed message means the control plane is healthy: start backoff from scratch next time.
    this.attempt = 0;
    const big = line.length >= BIG_LINE;
    if (msg.type === "drain") {
      this.opts.log?.(`control plane ${from} is stopping (drain); moving to another replica`);
      drained();
      return;
    }
    if (msg.type === "config") {
      this.counters.config++;
      const config = msg.config;
      this.latest = { version: msg.version, nonce: msg.nonce, config: () => config, owned: true, types: [], from, big };
    } else if (msg.type === "delta") {
      if (msg.full) this.counters.full_state++;
      else this.counters.delta++;
      let folded: Map<ResourceType, { updated: number; removed: number }>;
      try {
        folded = this.resources.fold(msg);
      } catch (e) {
        // A change it cannot read leaves the state it holds as it was; the control plane learns by the NACK.
        this.latest = { version: String(msg.version), nonce: String(msg.nonce), config: () => this.resources.config(""), owned: false, types: [], from, error: (e as Error).message };
        this.applying ??= this.drain();
        return;
      }
      for (const [type, n] of folded) {
        const c = this.typeCounters.get(type)!;
        c.resources_updated += n.updated;
        c.resources_removed += n.removed;
      }
      // Changes folded while an apply runs are applied together, once: their types add up.
      const types = new Set([...(this.latest?.error === undefined ? (this.latest?.types ?? []) : []), ...folded.keys()]);
      const version = msg.version;
      this.latest = { version, nonce: msg.nonce, config: () => this.resources.config(version), owned: true, types: [...types], from, big: big || this.latest?.big === true };
    } else return;
    this.applying ??= this.drain();
  }

  /** Apply pushed configs one at a time; when several arrive during an apply, only the newest is applied. */
  private async drain(): Promise<void> {
    try {
      while (this.latest && !this.closed) {
        const next = this.latest;
        this.latest = null;
        if (next.big === true && this.opts.collect !== undefined) {
          // After the turn that parsed it, whose frames still held the line's text.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.closed) break;
          this.opts.collect();
        }
        const verdict = next.error !== undefined ? { accepted: false, error: next.error } : await this.applyBuilt(next);
        if (this.sidecar === null && !verdict.accepted && next.error === undefined && this.retryStart(next, verdict.error)) continue;
        this.count(next.types, verdict.accepted);
        this.opts.onPush?.({ version: next.version, ...verdict });
        this.acks.send({ node: this.opts.node, version: next.version, nonce: next.nonce, ...verdict }, next.from);
      }
    } finally {
      this.applying = null;
    }
  }

  /**
   * The first config was rejected and no sidecar runs: nothing would ever be pushed again until the
   * config changes, and the proxy would wait, not ready, for good. Try it again with backoff (1 s
   * doubling to 30 s; a port another process held may be free by then), saying so each time; the NACK
   * goes once, an ACK when a later try starts it. A newer change replaces it. True: this try was a retry
   * that failed again (nothing more to send).
   */
  private retryStart(next: Pending, error: string | undefined): boolean {
    if (this.closed) return false;
    const again = this.retryNonce === next.nonce;
    this.retryNonce = next.nonce;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.startFailures++, 10));
    this.opts.log?.(`cannot start with config ${next.version} (${error ?? "rejected"}); not ready, trying again in ${delay / 1000} s`);
    this.startRetry?.cancel();
    this.startRetry = this.clock.setTimeout(() => {
      this.startRetry = null;
      if (this.latest !== null || this.sidecar !== null) return;
      this.latest = { ...next, big: false };
      this.applying ??= this.drain();
    }, delay);
    return again;
  }

  /** Build the change's config (a delta's resources may not make one: a virtual host missing) and apply it. */
  private async applyBuilt(next: Pending): Promise<{ accepted: boolean; error?: string }> {
    let config: ProxyConfig;
    try {
      config = next.config();
    } catch (e) {
      return { accepted: false, error: (e as Error).message };
    }
    return this.applyOne(config, next.owned);
  }

  private count(types: readonly ResourceType[], accepted: boolean): void {
    if (!accepted) this.counters.update_rejected++;
    for (const t of types) {
      const c = this.typeCounters.get(t)!;
      c.update_attempt++;
      if (accepted) c.update_success++;
      else c.update_rejected++;
    }
  }

  private async applyOne(config: ProxyConfig, owned: boolean): Promise<{ accepted: boolean; error?: string }> {
    if (!this.sidecar) {
      try {
        this.sidecar = await Sidecar.start(config, { ...this.opts.sidecar, adoptConfig: owned });
      } catch (e) {
        return { accepted: false, error: (e as Error).message };
      }
      // The stream's counters on the sidecar's admin /stats, beside the filters' (control_plane.xds.*).
      const stats = this.sidecar.ctx.filterStats;
      stats.group("control_plane.xds", () => this.counters as unknown as Record<string, number>);
      for (const [t, c] of this.typeCounters) stats.group(`control_plane.xds.${t}`, () => c as unknown as Record<string, number>);
      this.resolveReady(this.sidecar);
      return { accepted: true };
    }
    const r = await this.sidecar.applyConfig(config, owned);
    return r.ok ? { accepted: true } : { accepted: false, error: r.error };
  }

  /** The mesh root(s) the control plane's certificate must chain to, now. */
  private ca(): string | undefined {
    return typeof this.opts.ca === "function" ? this.opts.ca() : this.opts.ca;
  }

  private auth(): Record<string, string> {
    const token = typeof this.opts.token === "function" ? this.streamToken : this.opts.token;
    return token !== undefined ? { authorization: `Bearer ${token}` } : {};
  }
}
