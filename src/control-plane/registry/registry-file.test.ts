import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { InstanceRegistration } from "../../model/wire.ts";
import { REGISTRATIONS_FILE, RegistryFile } from "./registry-file.ts";

const reg = (name: string, port: number): InstanceRegistration => ({
  instance: { name, namespace: "default", labels: { app: name }, serviceAccount: name, address: "127.0.0.1", ports: { "9080": port }, ready: true },
  nodeId: `sidecar~${name}.default`,
  node: { id: `sidecar~${name}.default`, kind: "sidecar", workload: name, namespace: "default", labels: { app: name }, serviceAccount: name, trustDomain: "cluster.local", ip: "127.0.0.1" },
  outboundPort: port + 1,
});

describe("RegistryFile", () => {
  const dirs: string[] = [];
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), "amime-regfile-"));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("no file: nothing restored; save then load gives the registrations back", async () => {
    const d = await dir();
    const f = new RegistryFile(d);
    assert.deepEqual(await f.load(() => assert.fail("not damaged")), []);
    await f.save(() => [reg("a", 9080), reg("b", 9090)]);
    assert.deepEqual((await new RegistryFile(d).load(() => assert.fail("not damaged"))).map((r) => r.instance.name), ["a", "b"]);
  });

  it("saves while one is in flight are coalesced: the last state is on disk", async () => {
    const d = await dir();
    const f = new RegistryFile(d);
    let state = [reg("a", 9080)];
    const first = f.save(() => state);
    state = [reg("a", 9080), reg("b", 9090)];
    void f.save(() => state);
    state = [reg("c", 7070)];
    await Promise.all([first, f.save(() => state)]);
    const disk = JSON.parse(await readFile(join(d, REGISTRATIONS_FILE), "utf8")) as { registrations: InstanceRegistration[] };
    assert.deepEqual(disk.registrations.map((r) => r.instance.name), ["c"]);
  });

  it("a damaged file is reported and restores nothing", async () => {
    const d = await dir();
    await writeFile(join(d, REGISTRATIONS_FILE), "{not json");
    const why: string[] = [];
    assert.deepEqual(await new RegistryFile(d).load((w) => why.push(w)), []);
    assert.match(why[0] ?? "", /registrations\.json: .*JSON/);
  });
});
