import assert from "node:assert/strict";
import { test } from "node:test";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { RF_UC, RF_UF, RF_UPE, RF_URX } from "../request/response-flags.ts";
import { countRetryVerdict, errorOutcome, errorReply } from "./retry-step.ts";

test("errorOutcome: what the retry policy sees of each upstream error", () => {
  assert.deepEqual(errorOutcome("connect-failure"), { kind: "connect-failure" });
  assert.deepEqual(errorOutcome("refused-stream"), { kind: "refused-stream" });
  assert.deepEqual(errorOutcome("protocol-error"), { kind: "response", status: 502 });
  assert.deepEqual(errorOutcome("reset-before-response"), { kind: "reset", beforeRequest: false });
});

test("errorReply: UF 503, UPE 502, resets UC 503", () => {
  assert.deepEqual(errorReply("connect-failure").slice(0, 2), [503, RF_UF]);
  assert.deepEqual(errorReply("protocol-error").slice(0, 2), [502, RF_UPE]);
  assert.deepEqual(errorReply("refused-stream").slice(0, 2), [503, RF_UC]);
  assert.deepEqual(errorReply("reset-during-response").slice(0, 2), [503, RF_UC]);
});

test("countRetryVerdict: counts each verdict, URX only when the attempts ran out", () => {
  const stats = { upstream_rq_retry: 0, upstream_rq_retry_limit_exceeded: 0, upstream_rq_retry_overflow: 0 };
  const cluster = { stats } as unknown as ClusterState;
  const x = { flags: 0 };
  assert.equal(countRetryVerdict("retry", cluster, x), true);
  assert.equal(countRetryVerdict("no", cluster, x), false);
  assert.equal(x.flags, 0);
  assert.equal(countRetryVerdict("overflow", cluster, x), false);
  assert.equal(x.flags, 0);
  assert.equal(countRetryVerdict("limit-exceeded", cluster, x), false);
  assert.equal(x.flags, RF_URX);
  assert.deepEqual(stats, { upstream_rq_retry: 1, upstream_rq_retry_limit_exceeded: 1, upstream_rq_retry_overflow: 1 });
});
