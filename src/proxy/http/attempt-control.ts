// AttemptControl: the attempt engine of one forwarded request, shared by the HTTP/1.1 Forwarder
// and the H2Forwarder. It owns the host choice of each attempt (upstream/host-choice.ts: hash key,
// tried hosts, original destination), the circuit-breaker check and the attempt counters, the
// route timer (covers every attempt → 504 UT), the per-try timer, the retry decision (RetryState; hosts already tried avoided), the
// backoff between attempts and the end of the request (local reply or completion). What differs
// by upstream protocol is left to four small hooks: how an attempt starts, how its upstream is
// dropped and released, and whether it reached its host. Each attempt sends the request body
// held for replay from its start (sendBody).
import type { TimerHandle } from "../../core/clock.ts";
import type { ForwardAction } from "../../model/proxy-config.ts";
import { RetryState, type AttemptOutcome } from "../resilience/retry.ts";
import type { Host } from "../upstream/balance/balancer.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { pickRequestHost, requestHash, type HostRequest } from "../upstream/host-choice.ts";
import type { ListenerContext, ProxyContext } from "../request/context.ts";
import { BODY_NO_HEALTHY_UPSTREAM, BODY_OVERFLOW, BODY_TIMEOUT } from "../request/local-reply.ts";
import { RF_LR, RF_UH, RF_UO, RF_UT } from "../request/response-flags.ts";
import { countRetryVerdict } from "./retry-step.ts";

export const OVERLOADED: ReadonlyArray<readonly [string, string]> = [["x-envoy-overloaded", "true"]];

/** What the state machine needs of the downstream request (Exchange, ForwardStream). */
export interface ControlledRequest extends HostRequest {
  readonly proxy: ProxyContext;
  readonly listenerCtx: ListenerContext;
  attempts: number;
  upstreamHost: string;
  upstreamPrincipal: string;
  flags: number;
  readonly responseStarted: boolean;
  readonly replayable: boolean;
  /** The request body received so far and held for a replay (all of it while `replayable`). */
  readonly bodyChunks: Buffer[];
  /** Bytes in bodyChunks. */
  bodyHeld: number;
  readonly bodyDone: boolean;
  reply(status: number, flags: number, body?: string, headers?: ReadonlyArray<readonly [string, string]>): void;
}

/** Where an attempt's request body goes (an HTTP/1.1 upstream connection, an HTTP/2 or HTTP/1.1 attempt). */
export interface RequestBodySink {
  /** False: full, the downstream body should pause until it drains. */
  write(buf: Buffer): boolean;
  endRequest(): void;
}

export abstract class AttemptControl<X extends ControlledRequest> {
  protected readonly x: X;
  protected readonly action: ForwardAction;
  protected readonly cluster: ClusterState;
  protected readonly retryEnabled: boolean;
  /** The request's consistent-hash key for this cluster (undefined: none). */
  protected readonly hash: number | undefined;
  /** Created on the first failed attempt: most requests never need one. */
  protected retry: RetryState | null = null;
  protected host: Host | null = null;
  protected inAttempt = false;
  protected tried: Host[] | null = null;
  protected attemptStartMs = 0;
  protected perTryTimer: TimerHandle | null = null;
  protected routeTimer: TimerHandle | null = null;
  protected backoffTimer: TimerHandle | null = null;
  protected done = false;
  /** Of x.bodyChunks, how many (and their bytes) the current attempt has sent. */
  protected sentChunks = 0;
  protected sentBytes = 0;
  /** The current attempt's request is complete upstream. */
  protected requestEnded = false;

  constructor(x: X, action: ForwardAction, cluster: ClusterState) {
    this.x = x;
    this.action = action;
    this.cluster = cluster;
    const rp = action.retry;
    this.retryEnabled = rp.attempts > 0 && rp.retryOn.length + rp.retriableStatusCodes.length > 0;
    this.hash = requestHash(cluster, x);
  }

  /**
   * An attempt's common start: count it, pick its host (none: 503 UH), check the cluster's
   * maxRequests circuit breaker (503 UO, x-envoy-overloaded), take the host and start the per-try
   * timer. Null: the request was answered.
   */
  protected beginAttempt(): Host | null {
    const x = this.x;
    const cluster = this.cluster;
    const stats = cluster.stats;
    x.attempts++;
    const host = pickRequestHost(cluster, x.authority, x.listenerCtx.port, this.hash, this.tried);
    if (host === null) {
      this.fail(503, RF_UH, BODY_NO_HEALTHY_UPSTREAM);
      return null;
    }
    if (stats.upstream_rq_active >= cluster.config.connectionPool.maxRequests) {
      stats.upstream_rq_pending_overflow++;
      this.fail(503, RF_UO, BODY_OVERFLOW, OVERLOADED);
      return null;
    }
    this.host = host;
    x.upstreamHost = host.key;
    x.upstreamPrincipal = "";
    this.inAttempt = true;
    host.activeRequests++;
    stats.upstream_rq_total++;
    stats.upstream_rq_active++;
    const perTry = this.action.retry.perTryTimeoutMs;
    if (perTry > 0) this.perTryTimer = x.proxy.clock.setTimeout(() => this.onPerTryTimeout(), perTry);
    this.sentChunks = 0;
    this.sentBytes = 0;
    this.requestEnded = false;
    return host;
  }

  /**
   * Write the request body chunks this attempt has not sent yet to `to`, and end the request once
   * the body is complete. A body no retry can replay any more is let go as it is sent. False: `to`
   * is full.
   */
  protected sendBody(to: RequestBodySink): boolean {
    const x = this.x;
    const chunks = x.bodyChunks;
    let ok = true;
    while (this.sentChunks < chunks.length) {
      const c = chunks[this.sentChunks++] as Buffer;
      this.sentBytes += c.length;
      ok = to.write(c);
    }
    if (!x.replayable && this.sentChunks > 0) {
      // No retry can replay this body any more: let go of what was sent.
      chunks.splice(0, this.sentChunks);
      x.bodyHeld -= this.sentBytes;
      this.sentChunks = 0;
      this.sentBytes = 0;
    }
    if (x.bodyDone && !this.requestEnded) {
      this.requestEnded = true;
      to.endRequest();
    }
    return ok;
  }

  /** Pick a host and send the request to it (again, on a retry). */
  protected abstract startAttempt(): void;
  /** Abandon the current attempt's upstream (retry, timeout, downstream gone). */
  protected abstract dropUpstream(): void;
  /** The last step of endAttempt: let go of whatever the attempt holds of the upstream. */
  protected abstract releaseUpstream(): void;
  /** Did the current attempt reach its host (not still connecting or queued)? */
  protected abstract reachedHost(): boolean;

  /** The attempt is over (success, failure or abandoned): release its host and timers. */
  protected endAttempt(): void {
    if (!this.inAttempt) return;
    this.inAttempt = false;
    this.cluster.stats.upstream_rq_active--;
    if (this.host !== null) this.host.activeRequests--;
    this.perTryTimer?.cancel();
    this.perTryTimer = null;
    this.releaseUpstream();
  }

  /** The downstream went away: reset the upstream side. */
  abort(): void {
    if (this.done) return;
    this.dropUpstream();
    this.endAttempt();
    this.complete();
  }

  // ---- retries and timeouts ----

  protected decide(outcome: AttemptOutcome): "retry" | "no" {
    if (!this.x.replayable) return "no";
    const r = (this.retry ??= new RetryState(this.action.retry, this.x.proxy.random, this.cluster.retryCounter));
    if (!countRetryVerdict(r.decide(outcome), this.cluster, this.x)) return "no";
    // Hosts already tried are avoided by the next pick (Istio: previous_hosts predicate).
    if (this.host !== null && this.action.retry.retryIgnorePreviousHosts) (this.tried ??= []).push(this.host);
    return "retry";
  }

  protected scheduleRetry(): void {
    const delay = (this.retry as RetryState).delayMs;
    if (delay <= 0) {
      this.startAttempt();
      return;
    }
    this.backoffTimer = this.x.proxy.clock.setTimeout(() => {
      this.backoffTimer = null;
      if (!this.done) this.startAttempt();
    }, delay);
  }

  protected onPerTryTimeout(): void {
    this.perTryTimer = null;
    if (this.done || this.x.responseStarted) return;
    this.cluster.stats.upstream_rq_per_try_timeout++;
    this.cluster.outlier?.onLocalOriginFailure(this.host as Host, "timeout");
    this.dropUpstream();
    this.endAttempt();
    if (this.retryEnabled && this.decide({ kind: "timeout" }) === "retry") {
      this.scheduleRetry();
      return;
    }
    this.fail(504, RF_UT, BODY_TIMEOUT);
  }

  protected onRouteTimeout(): void {
    this.routeTimer = null;
    if (this.done) return;
    this.cluster.stats.upstream_rq_timeout++;
    this.x.proxy.downstream.downstream_rq_timeout++;
    // Envoy reports LocalOriginTimeout for a host the request reached (not one still pending).
    if (this.inAttempt && this.host !== null && this.reachedHost()) this.cluster.outlier?.onLocalOriginFailure(this.host, "timeout");
    this.dropUpstream();
    this.endAttempt();
    this.fail(504, RF_UT, BODY_TIMEOUT);
  }

  protected fail(status: number, flags: number, body: string, headers?: ReadonlyArray<readonly [string, string]>): void {
    if (this.done) return;
    this.complete();
    if (this.x.responseStarted) flags |= RF_LR;
    this.x.reply(status, flags, body, headers);
  }

  protected complete(): void {
    this.done = true;
    this.routeTimer?.cancel();
    this.routeTimer = null;
    this.backoffTimer?.cancel();
    this.backoffTimer = null;
    this.retry?.done();
  }
}
