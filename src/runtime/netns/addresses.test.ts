import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeLinkIp, pickSubnet, podCidr, podIp, usedSecondOctets, VipAllocator } from "./addresses.ts";

describe("netns addresses", () => {
  it("picks the first 10.X/16 (200-249) not on a host route or address, wrapping around", () => {
    const used = usedSecondOctets("default via 192.0.2.1 dev eth0\n10.200.1.0/24 via 10.200.0.2 dev am1u\n2: eth0 inet 10.201.3.4/16");
    assert.deepEqual([...used].sort(), [200, 201]);
    assert.deepEqual(pickSubnet(used, 200), { octet: 202 });
    assert.deepEqual(pickSubnet(new Set([249]), 249), { octet: 200 });
    assert.equal(pickSubnet(new Set(Array.from({ length: 50 }, (_, i) => 200 + i)), 210), null);
  });

  it("hands out pod IPs from .2 on each node's subnet and keeps one VIP per host", () => {
    assert.equal(podIp({ octet: 210 }, 0), "10.210.1.2");
    assert.equal(podIp({ octet: 210 }, 3, 1), "10.210.2.5");
    assert.equal(nodeLinkIp({ octet: 210 }, 1), "10.210.0.3");
    assert.equal(podCidr({ octet: 210 }, 1), "10.210.2.0/24");
    assert.throws(() => podIp({ octet: 210 }, 250), RangeError);
    const v = new VipAllocator({ octet: 210 });
    assert.equal(v.vip("a"), "10.210.128.1");
    assert.equal(v.vip("b"), "10.210.128.2");
    assert.equal(v.vip("a"), "10.210.128.1");
    // A clusterIP / ServiceEntry address from the config is the VIP.
    assert.equal(v.vip("c", "10.96.0.10"), "10.96.0.10");
    assert.equal(v.vip("c"), "10.96.0.10");
  });
});
