// The pieces of one retry step that the HTTP/1.1 Forwarder and the H2Forwarder share (the host
// choice is upstream/host-choice.ts): what an upstream error means for the retry policy, the outlier
// detector and the local reply, and how a RetryState verdict is counted.
import type { AttemptOutcome, RetryDecision } from "../resilience/retry.ts";
import type { Host } from "../upstream/balance/balancer.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { BODY_CONNECT_FAILURE, BODY_CONNECTION_TERMINATION, BODY_PROTOCOL_ERROR } from "../request/local-reply.ts";
import { RF_UC, RF_UF, RF_UPE, RF_URX } from "../request/response-flags.ts";

/** Upstream error kinds both attempt kinds report (HTTP/2 adds refused-stream). */
export type UpstreamError = "connect-failure" | "reset-before-response" | "reset-during-response" | "protocol-error" | "refused-stream";

/** Tell the outlier detector about a failed attempt (a protocol error is not the host's fault). */
export function recordUpstreamError(cluster: ClusterState, host: Host, kind: UpstreamError): void {
  if (kind === "connect-failure") cluster.outlier?.onLocalOriginFailure(host, "connect-failed");
  else if (kind !== "protocol-error") cluster.outlier?.onLocalOriginFailure(host, "reset");
}

const CONNECT_FAILURE: AttemptOutcome = { kind: "connect-failure" };
const REFUSED_STREAM: AttemptOutcome = { kind: "refused-stream" };
const BAD_GATEWAY: AttemptOutcome = { kind: "response", status: 502 };
const RESET: AttemptOutcome = { kind: "reset", beforeRequest: false };

/** An upstream error as the retry policy sees it. */
export function errorOutcome(kind: UpstreamError): AttemptOutcome {
  return kind === "connect-failure" ? CONNECT_FAILURE : kind === "refused-stream" ? REFUSED_STREAM : kind === "protocol-error" ? BAD_GATEWAY : RESET;
}

const REPLY_UF = [503, RF_UF, BODY_CONNECT_FAILURE] as const;
const REPLY_UPE = [502, RF_UPE, BODY_PROTOCOL_ERROR] as const;
const REPLY_UC = [503, RF_UC, BODY_CONNECTION_TERMINATION] as const;

/** The local reply for an upstream error that is not retried: status, flag, body. */
export function errorReply(kind: UpstreamError): readonly [number, number, string] {
  return kind === "connect-failure" ? REPLY_UF : kind === "protocol-error" ? REPLY_UPE : REPLY_UC;
}

/** Count a RetryState verdict on the cluster's stats (and URX on the request): true = retry. */
export function countRetryVerdict(d: RetryDecision, cluster: ClusterState, x: { flags: number }): boolean {
  const stats = cluster.stats;
  if (d === "retry") {
    stats.upstream_rq_retry++;
    return true;
  }
  if (d === "limit-exceeded") {
    x.flags |= RF_URX;
    stats.upstream_rq_retry_limit_exceeded++;
  } else if (d === "overflow") {
    stats.upstream_rq_retry_overflow++;
  }
  return false;
}
