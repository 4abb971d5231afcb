// The image table and Kubernetes' command/args/$(VAR) rules.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { join } from "node:path";
import { installManifests } from "../../../src/cli/install/manifests.ts";
import { CHECKOUT, ContainerStartError, containerArgv, expand, IMAGE_WORKDIR, localImage, NODE } from "./images.ts";
import { launchScript } from "./mount.ts";

it("maps Istio's bookinfo images to the local apps, reviews with its version", () => {
  const r = localImage("docker.io/istio/examples-bookinfo-reviews-v3:1.20.3", []);
  assert.equal(r.entrypoint[0], NODE);
  assert.match(r.entrypoint[1]!, /samples\/bookinfo\/apps\/reviews\.ts$/);
  assert.deepEqual(r.env, { REVIEWS_VERSION: "v3" });
  assert.match(localImage("registry.istio.io/release/examples-bookinfo-productpage-v1:1.20.3", []).entrypoint[1]!, /productpage\.ts$/);
});

it("an unknown image (or a bookinfo version with no local app) is ErrImagePull", () => {
  for (const image of ["nginx:1.27", "docker.io/istio/examples-bookinfo-ratings-v2:1.20.3"]) {
    assert.throws(() => localImage(image, []), (e: unknown) => e instanceof ContainerStartError && e.reason === "ErrImagePull" && e.message.includes(image));
  }
});

it("command replaces the entrypoint with a program of the image, args follow, $(VAR) expanded", () => {
  const amime = localImage("amime:test", ["amime:test"]);
  assert.deepEqual(containerArgv(amime, undefined, ["capture", "--pod-ip", "$(POD_IP)", "$(NOPE)", "$$(POD_IP)"], { POD_IP: "10.1.1.2" }).slice(2), ["capture", "--pod-ip", "10.1.1.2", "$(NOPE)", "$(POD_IP)"]);
  assert.deepEqual(containerArgv(amime, ["/usr/local/bin/pilot-agent", "wait"], undefined, {}).slice(2), ["wait"]);
  assert.deepEqual(containerArgv(amime, ["node", "--max-semi-space-size=2", "/amime/dist/bundle/run-proxy.js"], ["proxy"], {}), [NODE, "--max-semi-space-size=2", join(CHECKOUT, "dist", "bundle", "run-proxy.js"), "proxy"]);
  assert.throws(() => containerArgv(amime, ["envoy"], [], {}), (e: unknown) => e instanceof ContainerStartError && e.reason === "RunContainerError");
  const busybox = localImage("busybox:1.36", []);
  assert.deepEqual(containerArgv(busybox, undefined, undefined, {}), ["/bin/sh"]);
  assert.deepEqual(containerArgv(busybox, undefined, ["cat", "/x"], {}), ["/bin/cat", "/x"]);
  assert.equal(expand("a$$b$(X)", { X: "y" }), "a$by");
});

it("a mount over a path the program needs binds that path back inside the volume", () => {
  const script = launchScript({ hostname: "p", mounts: [{ source: "/run/v/tmp", target: "/tmp", readOnly: false }], keep: ["/tmp/checkout"], workingDir: "/tmp/checkout", user: { uid: 1337, gid: 1337 } });
  assert.ok(script.includes("mount --rbind '/tmp/checkout' '/run/v/tmp/checkout'\nmount --rbind '/run/v/tmp' '/tmp'"), script);
  assert.match(script, /exec setpriv --reuid=1337 --regid=1337 --clear-groups -- "\$@"$/);
});

it("the Amime image's stand-in is the Dockerfile's image: its WORKDIR, its entrypoint `amime` (bin/amime.js), its user", () => {
  const dockerfile = readFileSync(join(CHECKOUT, "Dockerfile"), "utf8");
  const last = (instruction: string): string => [...dockerfile.matchAll(new RegExp(`^${instruction}\\s+(.+)$`, "gm"))].at(-1)?.[1]?.trim() ?? "";
  assert.equal(last("WORKDIR"), IMAGE_WORKDIR);
  assert.equal(last("ENTRYPOINT"), '["amime"]');
  assert.match(dockerfile, new RegExp(`^RUN ln -s ${IMAGE_WORKDIR}/bin/amime\\.js /usr/local/bin/amime$`, "m"));
  assert.equal(last("USER"), "1337:1337");
  const img = localImage("amime:test", ["amime:test"]);
  assert.deepEqual(img.entrypoint, [NODE, join(CHECKOUT, "bin", "amime.js")]);
  assert.equal(img.workdir, IMAGE_WORKDIR);
  // What `amime install` runs with it: the entrypoint and args only (no command), as the user the image sets.
  type Workload = { kind: string; spec: { template: { spec: { containers: { image: string; command?: string[]; args: string[]; securityContext: { runAsUser: number; runAsGroup?: number } }[] } } } };
  const workloads = installManifests({ namespace: "istio-system", image: "amime:test", cacerts: {}, crds: [] }).filter((o) => o.kind === "Deployment" || o.kind === "DaemonSet") as unknown as Workload[];
  assert.deepEqual(workloads.map((w) => w.kind).sort(), ["DaemonSet", "Deployment"]);
  for (const w of workloads) {
    const c = w.spec.template.spec.containers[0]!;
    assert.equal(c.image, "amime:test");
    assert.equal(c.command, undefined, `${w.kind}: the image's entrypoint runs`);
    assert.equal(c.args[0], w.kind === "Deployment" ? "control-plane" : "node-agent");
  }
  const cp = workloads.find((w) => w.kind === "Deployment")!.spec.template.spec.containers[0]!;
  assert.deepEqual([cp.securityContext.runAsUser, cp.securityContext.runAsGroup], [1337, 1337]);
});
