// `amime up --store etcd://… --control-planes 3` end to end on the mini mesh, against a real
// 3-member etcd cluster: three control-plane replicas share the config (the -f files applied to
// etcd at start: etcdctl sees one key per resource), every sidecar is given all three, and a
// change applied at the first replica reaches every sidecar (whichever replica each one is on).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { eventually, get, postYaml, randomPortBase, ROOT, UpRun } from "./up-harness.ts";

const MINI = join(ROOT, "test", "e2e", "fixtures", "mini");
const PREFIX = `/amime-up-${process.pid}`;

const ONLY_V2 = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: back}
spec:
  host: back
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: back}
spec:
  hosts: [back]
  http: [{route: [{destination: {host: back, subset: v2}}]}]
`;

describe("amime up with three control-plane replicas on etcd", { timeout: 150_000 }, () => {
  let etcd: EtcdCluster;
  let run: UpRun;
  let state: UpState;

  before(async () => {
    etcd = await EtcdCluster.start(3);
    run = new UpRun(["-f", MINI, "--port-base", String(await randomPortBase()), "--store", etcd.url(PREFIX), "--control-planes", "3"]);
    state = await run.waitStarted(90_000);
  });
  after(async () => {
    run?.cleanup();
    await etcd?.close();
  });

  it("starts three replicas, gives every sidecar all of them, and keeps the -f files in etcd", () => {
    const urls = /control plane (https:\/\/127\.0\.0\.1:\d+), (https:\/\/127\.0\.0\.1:\d+), (https:\/\/127\.0\.0\.1:\d+) \(config/.exec(run.output);
    assert.ok(urls, run.output);
    for (const i of state.instances) {
      const args = readFileSync(`/proc/${i.sidecarPid}/cmdline`, "utf8").split("\0");
      assert.equal(args[args.indexOf("--xds") + 1], urls.slice(1, 4).join(","), i.name);
    }
    const keys = spawnSync("etcdctl", ["--endpoints", etcd.endpoints.join(","), "get", "--prefix", `${PREFIX}/resources/`, "--keys-only"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } });
    assert.equal(keys.status, 0, keys.stderr);
    assert.match(keys.stdout, new RegExp(`${PREFIX}/resources/\\|Service\\|default\\|back`));
    assert.match(keys.stdout, /\|Workload\|default\|front/);
  });

  it("routes through the sidecars, and a change applied at the first replica reaches every sidecar", async () => {
    assert.ok(state.ingress);
    const r = await get(`${state.ingress}/call?url=http://back:9080/`);
    assert.equal(r.status, 200, r.body);
    const applied = await postYaml(`${state.controlPlane}/api/v1/apply`, ONLY_V2, run.auth());
    assert.equal(applied.status, 200, applied.body);
    const onlyV2 = async (): Promise<boolean> => {
      for (let i = 0; i < 6; i++) if (!(await get(`${state.ingress}/call?url=http://back:9080/`)).body.includes("back-v2-0")) return false;
      return true;
    };
    assert.ok(await eventually(onlyV2, 15_000), "all calls go to v2 after the VirtualService is applied");
  });

  it("SIGINT stops every replica and everything else: exit 0", async () => {
    assert.equal(await run.stop("SIGINT"), 0);
  });
});
