// Push: the last stage of the control plane (ingest → snapshot → translate → PUSH). Keeps one
// stream per connected proxy, and on each new snapshot (debounced) re-translates every connected
// proxy's config and sends only what changed. A delta stream (the proxy asked with `delta=1`) gets
// its full state once, then per change only the resources added or changed and the names removed
// (delta.ts); a stream without it gets the whole config when its hash (without the version)
// changed. Each push carries a fresh nonce; the proxy's ACK/NACK for that nonce moves its sync state.
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { Random } from "../../core/random.ts";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import type { ResourceType } from "../../model/resources.ts";
import type { AckMessage, PushCounters, PushMessage } from "../../model/wire.ts";
import { configDigest, configJson } from "./config-json.ts";
import { deltaLine, diffConfigs } from "./delta.ts";
import { Debouncer } from "./debouncer.ts";
import { newProxyState, recordAck, type ProxyState } from "./proxy-state.ts";

/** Where a proxy's stream writes: one NDJSON line per message. */
export interface PushSink {
  write(line: string): void;
  close(): void;
}

export interface PusherOptions {
  clock: Clock;
  random: Random;
  /** Quiet period before a push (default 50 ms). */
  debounceMs: number;
  /** Longest a push waits under a steady stream of changes (default 20 × debounceMs). */
  maxWaitMs?: number;
  /** Keep-alive line interval (wire.ts: 15 s). */
  pingMs?: number;
  /** The proxy's config at the current snapshot, or null while its instance is not registered. */
  configFor: (node: string) => ProxyConfig | null;
  /** Test hook: rewrite a config just before it goes on the wire (e.g. to make a proxy NACK). */
  beforeSend?: (node: string, config: ProxyConfig) => ProxyConfig;
  log?: (line: string) => void;
}

type AckListener = (state: ProxyState, ack: AckMessage) => void;

export const DEFAULT_PING_MS = 15_000;
/** Longest stretch of translation before the push loop yields to the event loop. */
const PUSH_SLICE_MS = 20;

export class Pusher {
  private readonly opts: PusherOptions;
  private readonly streams = new Map<string, PushSink>();
  private readonly states = new Map<string, ProxyState>();
  private readonly debouncer: Debouncer;
  private readonly ackListeners = new Set<AckListener>();
  private pingTimer: TimerHandle | null = null;
  private seq = 0;
  private closed = false;
  private running = false;
  /** Nodes that get their current config even if unchanged (a new stream: resync). */
  private readonly forced = new Set<string>();
  /** A new snapshot: every connected proxy's config must be compared again. */
  private dirty = false;
  /** Registered proxies not connected yet, whose first full state is prepared ahead (expect()). */
  private readonly expected = new Set<string>();
  private prepareTimer: TimerHandle | null = null;
  /** Waiting for the last stream to close (drain). */
  private readonly emptied: (() => void)[] = [];
  /** Pushes sent (for status and benchmarks). */
  pushes = 0;
  readonly counters: PushCounters = { configs: 0, fullStates: 0, deltas: 0, resources: {}, removed: {}, rejects: 0 };

  constructor(opts: PusherOptions) {
    this.opts = opts;
    this.debouncer = new Debouncer(opts.clock, opts.debounceMs, opts.maxWaitMs ?? opts.debounceMs * 20, () => this.pushAll());
    this.schedulePing();
  }

  /**
   * A proxy opened its stream: it replaces an older stream of the same node and gets the current
   * config now (resync): the whole config, or with `delta` its full state as a delta message.
   */
  connect(node: string, sink: PushSink, opts: { delta?: boolean } = {}): void {
    const old = this.streams.get(node);
    if (old && old !== sink) old.close();
    this.streams.set(node, sink);
    this.expected.delete(node);
    const st = this.stateOf(node);
    st.connected = true;
    st.delta = opts.delta === true;
    st.needsFull = true;
    st.lastSeen = this.opts.clock.now();
    // Through the push loop, so a burst of connects (a fleet reconnecting) is translated in time
    // slices rather than in one long block that would stall every other request.
    this.forced.add(node);
    this.kick();
  }

  /**
   * A proxy was registered and will connect soon (a runtime starts its sidecar right after): its
   * config is translated and its full state encoded in the background now, while its sidecar starts,
   * so that when it connects the config's shared parts, their diff and their JSON are found in the
   * caches (delta.ts, resource-versions.ts: by object) and only its own few resources are new. Done
   * once per call, after any waiting push; nothing is sent and nothing is kept but those caches.
   */
  expect(node: string): void {
    if (this.closed || this.streams.has(node)) return;
    this.expected.add(node);
    this.prepareTimer ??= this.opts.clock.setTimeout(() => {
      this.prepareTimer = null;
      this.kick();
    }, 0);
  }

  disconnect(node: string, sink: PushSink): void {
    if (this.streams.get(node) !== sink) return;
    this.streams.delete(node);
    this.forced.delete(node);
    const st = this.states.get(node);
    if (st) st.connected = false;
    if (this.streams.size === 0) for (const w of this.emptied.splice(0)) w();
  }

  /**
   * Before stopping: tell every connected proxy to move to another replica (`{"type":"drain"}`),
   * and resolve once they have all closed their streams, or after `graceMs`.
   */
  drain(graceMs: number): Promise<void> {
    if (this.streams.size === 0) return Promise.resolve();
    const line = JSON.stringify({ type: "drain" } satisfies PushMessage) + "\n";
    for (const s of this.streams.values()) s.write(line);
    return new Promise((resolve) => {
      const timer = this.opts.clock.setTimeout(() => resolve(), graceMs);
      this.emptied.push(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  /** Something changed: push (debounced) to every connected proxy whose config differs. */
  schedule(): void {
    if (!this.closed) this.debouncer.trigger();
  }

  /**
   * Push now to every connected proxy whose config changed. Translation is CPU work per proxy: after
   * each time slice the loop yields to the event loop, so ACKs and API calls are served during a
   * large push. A push requested while one runs makes the running loop go round once more (with
   * the newest snapshot) instead of starting a second loop.
   */
  pushAll(): void {
    this.dirty = true;
    this.kick();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.pushLoop();
  }

  private async pushLoop(): Promise<void> {
    try {
      while (!this.closed && (this.dirty || this.forced.size > 0 || this.expected.size > 0)) {
        const all = this.dirty;
        this.dirty = false;
        // Newly connected nodes first: they have nothing yet. Without a new snapshot, only they are translated.
        const order = all ? new Set([...this.forced, ...this.streams.keys()]) : new Set(this.forced);
        // The slice is timed on the Clock too: on a fake clock a push never yields mid-loop, so a
        // test's next push cannot find this loop parked on a real setImmediate.
        let sliceStart = this.opts.clock.now();
        for (const node of order) {
          if (this.closed) return;
          const force = this.forced.delete(node);
          this.pushTo(node, force);
          if (this.opts.clock.now() - sliceStart > PUSH_SLICE_MS) {
            await new Promise<void>((r) => setImmediate(r));
            sliceStart = this.opts.clock.now();
          }
        }
        // Then the proxies about to connect, while no push waits.
        for (const node of this.expected) {
          if (this.closed || this.dirty || this.forced.size > 0) break;
          this.expected.delete(node);
          if (!this.streams.has(node)) this.prepare(node);
          if (this.opts.clock.now() - sliceStart > PUSH_SLICE_MS) {
            await new Promise<void>((r) => setImmediate(r));
            sliceStart = this.opts.clock.now();
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** A proxy's ACK/NACK; false when it is for an unknown node or an outdated nonce. */
  ack(msg: AckMessage): boolean {
    const st = this.states.get(msg.node);
    if (!st) return false;
    const counted = recordAck(st, msg, this.opts.clock.now());
    if (!counted) return false;
    if (!msg.accepted) {
      this.counters.rejects++;
      this.opts.log?.(`proxy ${msg.node} rejected ${msg.version}: ${msg.error ?? ""}; it keeps its last good config${st.ackedVersion !== null ? ` (${st.ackedVersion})` : ""}`);
    }
    for (const l of this.ackListeners) l(st, msg);
    return true;
  }

  onAck(listener: AckListener): () => void {
    this.ackListeners.add(listener);
    return () => this.ackListeners.delete(listener);
  }

  state(node: string): ProxyState | undefined {
    return this.states.get(node);
  }

  /** Every proxy seen since start, connected or not, sorted by node id. */
  allStates(): ProxyState[] {
    return [...this.states.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  get connectedCount(): number {
    return this.streams.size;
  }

  close(): void {
    this.closed = true;
    for (const w of this.emptied.splice(0)) w();
    this.debouncer.cancel();
    this.pingTimer?.cancel();
    this.prepareTimer?.cancel();
    this.expected.clear();
    for (const [node, s] of this.streams) {
      s.close();
      const st = this.states.get(node);
      if (st) st.connected = false;
    }
    this.streams.clear();
  }

  private stateOf(node: string): ProxyState {
    let st = this.states.get(node);
    if (!st) {
      st = newProxyState(node, this.opts.clock.now());
      this.states.set(node, st);
    }
    return st;
  }

  /** What a new delta stream of `node` would be sent first, made and dropped: the caches keep its parts (expect()). */
  private prepare(node: string): void {
    try {
      const config = this.opts.configFor(node);
      if (config === null) return;
      const wire = this.opts.beforeSend ? this.opts.beforeSend(node, config) : config;
      deltaLine(config.version, "", true, diffConfigs(null, wire), new Map());
    } catch {
      // The push to this proxy meets the same error and says it (pushTo, pushDelta).
    }
  }

  private pushTo(node: string, force: boolean): void {
    const sink = this.streams.get(node);
    if (!sink) return;
    let config: ProxyConfig | null;
    try {
      config = this.opts.configFor(node);
    } catch (e) {
      // Translation must not throw on valid config; if it does, this proxy keeps what it has.
      this.opts.log?.(`translate ${node}: ${(e as Error).message}`);
      return;
    }
    if (config === null) return; // not registered yet: the stream stays open, waiting
    const st = this.stateOf(node);
    if (st.delta) {
      this.pushDelta(st, sink, config, force);
      return;
    }
    const hash = configHash(config);
    if (!force && hash === st.sentHash) return;
    const wire = this.opts.beforeSend ? this.opts.beforeSend(node, config) : config;
    const nonce = this.nonce();
    const msg: PushMessage = { type: "config", version: config.version, nonce, config: wire };
    // = JSON.stringify(msg), with the config's shared parts encoded once (config-json.ts).
    const line = `{"type":"config","version":${JSON.stringify(msg.version)},"nonce":${JSON.stringify(nonce)},"config":${configJson(wire)}}\n`;
    this.sent(st, config.version, nonce, hash, wire);
    this.counters.configs++;
    sink.write(line);
  }

  private sent(st: ProxyState, version: string, nonce: string, hash: string | null, wire: ProxyConfig): void {
    st.sentVersion = version;
    st.sentNonce = nonce;
    st.sentHash = hash;
    st.sentConfig = wire;
    st.lastSeen = this.opts.clock.now();
    this.pushes++;
  }

  /**
   * Delta push: diff against what this stream was sent (nothing, on a new stream: its full state).
   * The base is what was sent, not what was ACKed: the sidecar folds every message of its stream
   * into the state it holds, applied or not (a NACKed change stays in it until a later one fixes
   * it), so both ends agree on that state without waiting for answers.
   */
  private pushDelta(st: ProxyState, sink: PushSink, config: ProxyConfig, force: boolean): void {
    const full = force || st.needsFull;
    const wire = this.opts.beforeSend ? this.opts.beforeSend(st.node, config) : config;
    let delta: ReturnType<typeof diffConfigs>;
    try {
      delta = diffConfigs(full ? null : st.sentConfig, wire);
    } catch (e) {
      this.opts.log?.(`push ${st.node}: ${(e as Error).message}; it keeps what it has`);
      return;
    }
    if (!full && delta.size === 0) return;
    const nonce = this.nonce();
    if (full) st.types.clear();
    const versions = new Map<ResourceType, string>();
    for (const [type, change] of delta) {
      versions.set(type, config.version);
      const prev = st.types.get(type);
      const count = (prev?.resources ?? 0) + change.added - change.removed.length;
      st.types.set(type, { sentVersion: config.version, sentNonce: nonce, ackedVersion: prev?.ackedVersion ?? null, resources: count });
      this.counters.resources[type] = (this.counters.resources[type] ?? 0) + change.changed.length;
      if (change.removed.length > 0) this.counters.removed[type] = (this.counters.removed[type] ?? 0) + change.removed.length;
    }
    const line = deltaLine(config.version, nonce, full, delta, versions);
    this.sent(st, config.version, nonce, null, wire);
    st.needsFull = false;
    if (full) this.counters.fullStates++;
    else this.counters.deltas++;
    sink.write(line);
  }

  private nonce(): string {
    return `${(++this.seq).toString(36)}-${this.opts.random.int(0x7fffffff).toString(36)}`;
  }

  private schedulePing(): void {
    const every = this.opts.pingMs ?? DEFAULT_PING_MS;
    this.pingTimer = this.opts.clock.setTimeout(() => {
      if (this.closed) return;
      const line = JSON.stringify({ type: "ping" } satisfies PushMessage) + "\n";
      for (const s of this.streams.values()) s.write(line);
      this.schedulePing();
    }, every);
  }
}

/** Identity of a config's content: the version is left out, so an unrelated change pushes nothing. */
export function configHash(config: ProxyConfig): string {
  return configDigest(config, "");
}
