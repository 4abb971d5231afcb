import assert from "node:assert/strict";
import { it } from "node:test";
import { newProxyState, recordAck, syncState } from "./proxy-state.ts";

function sent(s: ReturnType<typeof newProxyState>, version: string, nonce: string): void {
  s.sentVersion = version;
  s.sentNonce = nonce;
}

it("NOT SENT → STALE → SYNCED", () => {
  const s = newProxyState("sidecar~a.default", 0);
  assert.equal(syncState(s), "NOT SENT");
  sent(s, "v1", "n1");
  assert.equal(syncState(s), "STALE");
  assert.equal(recordAck(s, { node: s.node, version: "v1", nonce: "n1", accepted: true }, 5), true);
  assert.equal(syncState(s), "SYNCED");
  assert.equal(s.ackedVersion, "v1");
  assert.equal(s.lastSeen, 5);
  sent(s, "v2", "n2");
  assert.equal(syncState(s), "STALE");
});

it("a NACK stays NACK (with its reason) through later pushes until one is ACKed", () => {
  const s = newProxyState("p", 0);
  sent(s, "v1", "n1");
  recordAck(s, { node: "p", version: "v1", nonce: "n1", accepted: true }, 1);
  sent(s, "v2", "n2");
  recordAck(s, { node: "p", version: "v2", nonce: "n2", accepted: false, error: "routes[0]: bad regex" }, 2);
  assert.equal(syncState(s), "NACK");
  assert.equal(s.nackError, "routes[0]: bad regex");
  assert.equal(s.ackedVersion, "v1", "the last good version is still what it runs");
  sent(s, "v3", "n3");
  assert.equal(syncState(s), "NACK");
  recordAck(s, { node: "p", version: "v3", nonce: "n3", accepted: true }, 3);
  assert.equal(syncState(s), "SYNCED");
  assert.equal(s.nackError, null);
});

it("an answer to an outdated nonce is ignored", () => {
  const s = newProxyState("p", 0);
  sent(s, "v1", "n1");
  sent(s, "v2", "n2");
  assert.equal(recordAck(s, { node: "p", version: "v1", nonce: "n1", accepted: false, error: "x" }, 1), false);
  assert.equal(syncState(s), "STALE");
  assert.equal(recordAck(s, { node: "p", version: "v1", nonce: "n1", accepted: true }, 1), false);
  assert.equal(s.ackedVersion, null);
});
