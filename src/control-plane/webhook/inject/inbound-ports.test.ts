import assert from "node:assert/strict";
import { it } from "node:test";
import { inboundPorts } from "./inbound-ports.ts";

it("numbers the app containers' TCP ports in order (15006, 15101…), skipping UDP, repeats and the sidecar itself", () => {
  const r = inboundPorts([
    { name: "app", ports: [{ containerPort: 9080 }, { containerPort: 53, protocol: "UDP" }, { containerPort: 9090, protocol: "TCP" }] },
    { name: "istio-proxy", ports: [{ containerPort: 15000 }] },
    { name: "metrics", ports: [{ containerPort: 9080 }, { containerPort: 8081 }] },
  ]);
  assert.ok("ports" in r);
  assert.deepEqual([...r.ports], [[9080, 15006], [9090, 15101], [8081, 15102]]);
  assert.deepEqual(inboundPorts(undefined), { ports: new Map() });
  assert.deepEqual(inboundPorts([{ name: "a", ports: [{ containerPort: 15020 }] }]), { error: "spec.containers[0].ports[0].containerPort: 15020 is in 15000-15399, the sidecar's ports" });
});
