import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { controlPlaneMetrics } from "./metrics.ts";

const push = { configs: 3, fullStates: 2, deltas: 7, resources: {}, removed: {}, rejects: 1 };

describe("controlPlaneMetrics", () => {
  it("says 1 on the leader and 0 on a follower, labelled with the replica", () => {
    assert.match(controlPlaneMetrics({ replica: "cp-a", leading: true, connectedProxies: 0, push }), /^amime_control_plane_leader\{replica="cp-a"\} 1$/m);
    assert.match(controlPlaneMetrics({ replica: "cp-b", leading: false, connectedProxies: 0, push }), /^amime_control_plane_leader\{replica="cp-b"\} 0$/m);
  });

  it("a control plane without replicas leads, with no replica label", () => {
    assert.match(controlPlaneMetrics({ replica: null, leading: true, connectedProxies: 0, push }), /^amime_control_plane_leader 1$/m);
  });

  it("escapes a replica name as Prometheus label values need", () => {
    assert.match(controlPlaneMetrics({ replica: 'a"b\\c', leading: false, connectedProxies: 0, push }), /^amime_control_plane_leader\{replica="a\\"b\\\\c"\} 0$/m);
  });

  it("has a TYPE line per family and the push counters", () => {
    const text = controlPlaneMetrics({ replica: null, leading: true, connectedProxies: 4, push });
    assert.match(text, /^# TYPE amime_control_plane_leader gauge$/m);
    assert.match(text, /^amime_control_plane_xds_connected 4$/m);
    assert.match(text, /^amime_control_plane_xds_pushes_total\{type="delta"\} 7$/m);
    assert.match(text, /^amime_control_plane_xds_rejects_total 1$/m);
  });
});
