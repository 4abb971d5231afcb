import assert from "node:assert/strict";
import { test } from "node:test";
import { HostHealth, type HealthOutcome, type HealthTransition } from "./host-health.ts";

const S: HealthOutcome = "success";
const A: HealthOutcome = "active-failure";
const N: HealthOutcome = "network-failure";

// [name, unhealthyThreshold, healthyThreshold, outcomes, expected transitions, failed at the end]
const cases: [string, number, number, HealthOutcome[], HealthTransition[], boolean][] = [
  ["passing checks keep a host healthy", 3, 2, [S, S, S], ["unchanged", "unchanged", "unchanged"], false],
  ["a first check that fails on the network counts like any other", 3, 2, [N, N], ["unchanged", "unchanged"], false],
  ["a first check answering a bad status takes the host out at once", 3, 2, [A], ["became-unhealthy"], true],
  ["network failures need unhealthyThreshold in a row", 3, 2, [S, N, N, N], ["unchanged", "unchanged", "unchanged", "became-unhealthy"], true],
  ["a success in between restarts the count", 3, 2, [S, N, N, S, N, N], ["unchanged", "unchanged", "unchanged", "unchanged", "unchanged", "unchanged"], false],
  ["an unexpected status (active failure) is unhealthy at once", 3, 2, [S, A], ["unchanged", "became-unhealthy"], true],
  ["healthyThreshold successes in a row bring it back", 3, 2, [S, A, S, S], ["unchanged", "became-unhealthy", "unchanged", "became-healthy"], false],
  ["a failure in between restarts the healthy count", 3, 2, [S, A, S, N, S, S], ["unchanged", "became-unhealthy", "unchanged", "unchanged", "unchanged", "became-healthy"], false],
  ["threshold 1 flips on every change", 1, 1, [S, N, S, A, S], ["unchanged", "became-unhealthy", "became-healthy", "became-unhealthy", "became-healthy"], false],
  ["after a bad first answer, healthyThreshold successes bring it back", 3, 3, [A, S, S, S], ["became-unhealthy", "unchanged", "unchanged", "became-healthy"], false],
  ["failures while unhealthy change nothing", 2, 1, [S, N, N, N, A], ["unchanged", "unchanged", "became-unhealthy", "unchanged", "unchanged"], true],
];

for (const [name, unhealthy, healthy, outcomes, transitions, failed] of cases) {
  test(`host health: ${name}`, () => {
    const h = new HostHealth(unhealthy, healthy);
    assert.deepEqual(outcomes.map((o) => h.record(o)), transitions);
    assert.equal(h.failed, failed);
    assert.equal(h.checks, outcomes.length);
  });
}
