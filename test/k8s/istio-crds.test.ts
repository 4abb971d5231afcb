// Istio's CRDs (manifests/crds/crd-all.gen.yaml, unchanged from istio/istio) on the rig's real API
// server, checked with Istio's own CRD validation cases: every `-valid.yaml` resource is accepted,
// every `-invalid.yaml` one is refused with the message its `_err` field names (Istio runs the same
// files against envtest). The API server applies the schemas and their CEL rules; Amime does not.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { KubeCluster, KubectlError } from "../support/kube-cluster.ts";
import { tearDown } from "./teardown.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const CASES = join(ROOT, "test/fixtures/istio/pkg/config/validation/testdata/crds");

interface Case {
  name: string;
  yaml: string;
  /** What the API server says when it refuses the resource. */
  err: RegExp | undefined;
  /** Whether Istio's file marks it invalid. */
  invalid: boolean;
}

/**
 * The documents of one case file, sent as written (re-serializing would change what the API
 * server sees: YAML 1.2 reads `[001:db8::]` as a map, Kubernetes' YAML reads a string), with the
 * `_err: …` line taken out.
 */
function cases(file: string): Case[] {
  return readFileSync(join(CASES, file), "utf8")
    .split(/^---\s*$/m)
    .filter((doc) => /^kind:/m.test(doc))
    .map((doc) => {
      const errLine = /^_err:(.*)$/m.exec(doc);
      const kind = /^kind:\s*(\S+)/m.exec(doc)![1];
      const name = /^\s+name:\s*(\S+)/m.exec(doc)?.[1];
      return {
        name: `${kind}/${name}`,
        yaml: doc.replace(/^_err:.*$/m, ""),
        err: errLine ? expected(String(parse(errLine[1]!))) : undefined,
        invalid: errLine !== null,
      };
    });
}

/**
 * Istio's expected message as Kubernetes 1.37 words it, as a pattern. Two changes since the
 * Kubernetes Istio wrote these for: a CEL rule's failure quotes the value (`Invalid value: 65536:`)
 * or nothing for an object, no longer its type (`Invalid value: "integer":`); and a field set to
 * null is dropped before validation (structural schemas prune nulls), so it is reported missing.
 */
function expected(err: string): RegExp {
  const nulled = /^(\S+) in body must be of type \w+: "null"$/.exec(err);
  if (nulled) return new RegExp(`${escape(nulled[1]!)}: Required value`);
  return new RegExp(escape(err).replace(/Invalid value: "(object|integer|string|array|boolean|number)": /g, "Invalid value: (?:[^:]*: )?"));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const files = readdirSync(CASES).filter((f) => f.endsWith(".yaml")).sort();

describe("Istio's CRDs on a real kube-apiserver", () => {
  let cluster: KubeCluster;
  before(async () => {
    cluster = await KubeCluster.start();
    await cluster.installIstioCrds();
  });
  after(() => tearDown({ cluster }));

  it("serves every Istio group and kind the file defines", async () => {
    const out = await cluster.kubectl(["api-resources", "--api-group", "networking.istio.io", "-o", "name"]);
    assert.deepEqual(out.trim().split("\n").sort(), [
      "destinationrules.networking.istio.io", "envoyfilters.networking.istio.io", "gateways.networking.istio.io",
      "proxyconfigs.networking.istio.io", "serviceentries.networking.istio.io", "sidecars.networking.istio.io",
      "virtualservices.networking.istio.io", "workloadentries.networking.istio.io", "workloadgroups.networking.istio.io",
    ]);
    for (const [group, names] of [["security.istio.io", 3], ["telemetry.istio.io", 1], ["extensions.istio.io", 2]] as const) {
      const listed = (await cluster.kubectl(["api-resources", "--api-group", group, "-o", "name"])).trim().split("\n");
      assert.equal(listed.length, names, `${group}: ${listed.join(", ")}`);
    }
  });

  for (const file of files.filter((f) => f.endsWith("-valid.yaml"))) {
    it(`accepts ${file}`, async () => {
      for (const c of cases(file)) {
        await cluster.kubectl(["create", "--dry-run=server", "-f", "-"], { input: c.yaml }).catch((e: unknown) => {
          throw new Error(`${file} ${c.name} was refused: ${(e as Error).message}`);
        });
      }
    });
  }

  for (const file of files.filter((f) => f.endsWith("-invalid.yaml"))) {
    it(`refuses ${file} with Istio's messages`, async () => {
      const all = cases(file);
      assert.ok(all.length > 0 && all.every((c) => c.invalid), `${file}: every case has an _err`);
      for (const c of all) {
        await assert.rejects(cluster.kubectl(["create", "--dry-run=server", "-f", "-"], { input: c.yaml }), (e: unknown) => {
          assert.ok(e instanceof KubectlError, String(e));
          assert.match(e.stderr, c.err!, `${file} ${c.name}`);
          return true;
        }, `${file} ${c.name} was accepted`);
      }
    });
  }
});
