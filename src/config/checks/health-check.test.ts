import assert from "node:assert/strict";
import { test } from "node:test";
import { parseHealthCheck } from "./health-check.ts";

test("health-check annotation: valid values and defaults", () => {
  const cases: [string, unknown][] = [
    ['{"http":{}}', { kind: "http", path: "/", expectedStatuses: [[200, 299]], intervalMs: 10_000, timeoutMs: 1_000, unhealthyThreshold: 3, healthyThreshold: 1 }],
    ['{"tcp":{},"interval":"5s","timeout":"500ms","unhealthyThreshold":2,"healthyThreshold":2}', { kind: "tcp", intervalMs: 5_000, timeoutMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 }],
    ['{"http":{"path":"/health?full=1","expectedStatuses":[200,[300,399]]},"interval":"1m"}', { kind: "http", path: "/health?full=1", expectedStatuses: [[200, 200], [300, 399]], intervalMs: 60_000, timeoutMs: 1_000, unhealthyThreshold: 3, healthyThreshold: 1 }],
  ];
  for (const [value, want] of cases) {
    const r = parseHealthCheck(value);
    assert.deepEqual(r.problems, [], value);
    assert.deepEqual(r.config, want, value);
  }
});

test("health-check annotation: every problem is reported with its path, and no config comes out", () => {
  const cases: [string, string[]][] = [
    ["not json", [""]],
    ["[1]", [""]],
    ["{}", [""]],
    ['{"http":{},"tcp":{}}', [""]],
    ['{"http":{},"intervall":"5s"}', ["intervall"]],
    ['{"http":{"path":"health"}}', ["http.path"]],
    ['{"http":{"path":"/a b"}}', ["http.path"]],
    ['{"http":{"expectedStatuses":[]}}', ["http.expectedStatuses"]],
    ['{"http":{"expectedStatuses":[200,[399,300],700]}}', ["http.expectedStatuses.1", "http.expectedStatuses.2"]],
    ['{"http":{"method":"HEAD"}}', ["http.method"]],
    ['{"tcp":{"send":"x"}}', ["tcp"]],
    ['{"tcp":{},"interval":"5"}', ["interval"]],
    ['{"tcp":{},"interval":"0.5ms"}', ["interval"]],
    ['{"tcp":{},"interval":"1s","timeout":"2s"}', ["timeout"]],
    ['{"tcp":{},"unhealthyThreshold":0,"healthyThreshold":1.5}', ["unhealthyThreshold", "healthyThreshold"]],
  ];
  for (const [value, paths] of cases) {
    const r = parseHealthCheck(value);
    assert.equal(r.config, undefined, value);
    assert.deepEqual(r.problems.map((p) => p.path.join(".")), paths, `${value}: ${JSON.stringify(r.problems)}`);
  }
});
