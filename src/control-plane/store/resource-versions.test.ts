// ConfigStore's resourceVersion/generation bookkeeping, its conflict check, and a saved state
// taken back after a restart.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONFLICT_CODE, ConfigStore, SAVE_FAILED_CODE, type SavedState } from "./config-store.ts";

const SERVICES = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

const vs = (subset: string, rv?: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews${rv === undefined ? "" : `, resourceVersion: "${rv}"`}}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: ${subset}}
`;

async function store(): Promise<ConfigStore> {
  const s = new ConfigStore(() => 1000);
  assert.equal((await s.setFiles(new Map([["/cfg/services.yaml", SERVICES]]))).accepted, true);
  return s;
}

const versionsOf = (s: ConfigStore, kind: string) => {
  const e = s.entries().find((x) => x.resource.kind === kind);
  return e && { rv: e.resourceVersion, gen: e.generation };
};

describe("resource versions", () => {
  it("gives every resource a resourceVersion from one counter, and bumps generation on spec changes only", async () => {
    const s = await store();
    assert.deepEqual(versionsOf(s, "Service"), { rv: 1, gen: 1 });
    assert.deepEqual(versionsOf(s, "DestinationRule"), { rv: 2, gen: 1 });
    assert.equal((await s.apply(vs("v1"), "a.yaml")).accepted, true);
    assert.deepEqual(versionsOf(s, "VirtualService"), { rv: 3, gen: 1 });
    assert.equal((await s.apply(vs("v1"), "a.yaml")).accepted, true, "unchanged");
    assert.deepEqual(versionsOf(s, "VirtualService"), { rv: 3, gen: 1 });
    assert.equal((await s.apply(vs("v2"), "a.yaml")).accepted, true);
    assert.deepEqual(versionsOf(s, "VirtualService"), { rv: 4, gen: 2 });
    assert.deepEqual(versionsOf(s, "Service"), { rv: 1, gen: 1 }, "others keep theirs");
    assert.equal((await s.apply(vs("v2").replace("{name: reviews}", "{name: reviews, labels: {team: a}}"), "a.yaml")).accepted, true);
    assert.deepEqual(versionsOf(s, "VirtualService"), { rv: 5, gen: 2 }, "a metadata-only change takes a new resourceVersion, not a new generation");
    await s.apply(vs("v2"), "a.yaml");
    assert.equal(s.resourceVersion, 6);
    await s.delete(vs("v2"), "a.yaml");
    await s.apply(vs("v1"), "a.yaml");
    assert.deepEqual(versionsOf(s, "VirtualService"), { rv: 7, gen: 1 }, "a re-created object starts again at generation 1, never reusing a version");
  });

  it("applies a document carrying the current resourceVersion, and does not store the field", async () => {
    const s = await store();
    await s.apply(vs("v1"), "a.yaml");
    const r = await s.apply(vs("v2", "3"), "a.yaml");
    assert.equal(r.accepted, true, JSON.stringify(r.diagnostics));
    const stored = s.resources().find((x) => x.kind === "VirtualService")!;
    assert.equal((stored.body.metadata as Record<string, unknown>).resourceVersion, undefined);
    assert.equal(stored.metadata.resourceVersion, undefined);
  });

  it("refuses a stale resourceVersion (and one naming an object that does not exist) as a conflict, changing nothing", async () => {
    const s = await store();
    await s.apply(vs("v1"), "a.yaml");
    await s.apply(vs("v2"), "a.yaml");
    const stale = await s.apply(vs("v1", "3"), "b.yaml");
    assert.equal(stale.accepted, false);
    const d = stale.diagnostics.find((x) => x.code === CONFLICT_CODE);
    assert.match(d?.message ?? "", /Operation cannot be fulfilled on VirtualService default\/reviews: the object has been modified; please apply your changes to the latest version and try again \(metadata.resourceVersion "3" given, the stored one is "4"\)/);
    assert.deepEqual(versionsOf(s, "VirtualService"), { rv: 4, gen: 2 });
    const fresh = new ConfigStore(() => 1000);
    await fresh.setFiles(new Map([["/cfg/services.yaml", SERVICES]]));
    const missing = await fresh.apply(vs("v1", "9"), "b.yaml");
    assert.equal(missing.accepted, false);
    assert.match(missing.diagnostics.find((x) => x.code === CONFLICT_CODE)?.message ?? "", /does not exist/);
  });

  it("of two applies from the same base version, the first wins and the second conflicts", async () => {
    const s = await store();
    await s.apply(vs("v1"), "a.yaml");
    const base = String(versionsOf(s, "VirtualService")!.rv);
    assert.equal((await s.apply(vs("v2", base), "alice.yaml")).accepted, true);
    const second = await s.apply(vs("v1", base), "bob.yaml");
    assert.equal(second.accepted, false);
    assert.ok(second.diagnostics.some((x) => x.code === CONFLICT_CODE));
  });
});

describe("saving and restoring", () => {
  it("saves each change before adopting it; a failed save refuses the change", async () => {
    const s = await store();
    const saved: SavedState[] = [];
    s.persistWith(({ state }) => {
      saved.push(structuredClone(state));
      return undefined;
    });
    await s.apply(vs("v1"), "a.yaml");
    assert.equal(saved.length, 1);
    assert.equal(saved[0]!.applied.length, 1);
    assert.equal(saved[0]!.resourceVersion, 3);
    s.persistWith(() => {
      throw new Error("ENOSPC: no space left on device");
    });
    const r = await s.apply(vs("v2"), "a.yaml");
    assert.equal(r.accepted, false);
    assert.match(r.diagnostics.find((x) => x.code === SAVE_FAILED_CODE)?.message ?? "", /could not be saved.*ENOSPC/);
    assert.deepEqual(versionsOf(s, "VirtualService"), { rv: 3, gen: 1 }, "nothing changed");
  });

  it("a restored store keeps applied resources, their versions, and deletes (of applied and of file resources)", async () => {
    let last: SavedState | null = null;
    const restart = async (): Promise<ConfigStore> => {
      const s = new ConfigStore(() => 1000);
      if (last !== null) assert.deepEqual(s.restore(last), []);
      const loaded = await s.setFiles(new Map([["/cfg/services.yaml", SERVICES]]));
      assert.equal(loaded.accepted, true, JSON.stringify(loaded.diagnostics));
      s.persistWith(({ state }) => {
        last = structuredClone(state);
        return undefined;
      });
      return s;
    };
    const s = await restart();
    await s.apply(vs("v2"), "a.yaml");
    await s.apply(vs("v1"), "a.yaml");
    const again = await restart();
    assert.deepEqual(versionsOf(again, "VirtualService"), { rv: 4, gen: 2 });
    assert.ok(versionsOf(again, "Service")!.rv > 4, "file resources take new versions above every earlier one");
    const deleted = await again.delete(`${vs("v1")}---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\n`, "d.yaml");
    assert.equal(deleted.accepted, true, JSON.stringify(deleted.diagnostics));
    const third = await restart();
    assert.equal(versionsOf(third, "VirtualService"), undefined, "the delete of an applied resource survives the restart");
    assert.equal(versionsOf(third, "DestinationRule"), undefined, "so does the delete of a file resource (until its file changes)");
    await third.setFiles(new Map([["/cfg/services.yaml", SERVICES.replace("port: 9080", "port: 9081")]]));
    assert.ok(versionsOf(third, "DestinationRule"), "an edit of its file brings it back");
  });
});
