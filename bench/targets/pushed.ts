// The sidecar of bench/targets/deployed.ts taken from a control plane's push stream, as `amime up`
// runs it (`amime proxy --xds`: delta pushes over TLS, a workload certificate from the mesh CA),
// instead of from a config file: bench/memory.ts --via push (issue 15).
//
// The control plane runs in the bench's process with the same mesh: Bookinfo's Services and
// DestinationRules, `extraServices` more services (bench/lib/many-services.ts) with one instance per
// subset, Istio's metrics and tracing at 1 % to the upstream (nginx answers the Zipkin POSTs). The
// instances without a sidecar are WorkloadEntries: the reviews ones at the bench's upstream, the others
// at the addresses deployed.ts gives them. Productpage's sidecar registers as a runtime registers
// it (right before the sidecar starts: PushedMesh.register), its outbound listener on the bench's port.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ControlPlane } from "../../src/control-plane/server.ts";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import { localMeshTelemetry } from "../../src/runtime/local/local-mesh.ts";
import { manyServicesYaml } from "../lib/many-services.ts";
import { freePort } from "../lib/spawn.ts";

export interface PushedMesh {
  /**
   * Register the sidecar's instance, as a runtime does right before it starts the sidecar (the
   * control plane prepares its first full state while it starts: Pusher.expect). Call it in the turn
   * that spawns the sidecar.
   */
  register(): void;
  /**
   * Register another productpage replica with a sidecar (productpage-v1-<i>, i ≥ 1), as `amime up`
   * registers the sidecars it starts before this one: the same proxy class. Its sidecar is not started.
   */
  registerPeer(i: number): void;
  /** The `amime proxy` arguments (after `proxy`) and the environment of the sidecar. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The config the control plane pushes to the sidecar (for the bench's cluster and endpoint counts). */
  config(): ProxyConfig;
  close(): Promise<void>;
}

const NODE = "sidecar~productpage-v1-0.default";

export async function startPushedMesh(root: string, workDir: string, listenPort: number, upstreamPort: number, extraServices: number): Promise<PushedMesh> {
  const cp = await ControlPlane.start({ port: 0, watch: false, mesh: { telemetry: localMeshTelemetry(`http://127.0.0.1:${upstreamPort}`, undefined) } });
  try {
    const bookinfo = join(root, "samples", "bookinfo");
    for (const f of ["services.yaml", "destination-rule-all.yaml"]) await applied(cp, readFileSync(join(bookinfo, f), "utf8"), f);
    await applied(cp, workloadEntries(upstreamPort, extraServices), "workload-entries.yaml");
    if (extraServices > 0) await applied(cp, manyServicesYaml(extraServices), "many-services.yaml");
    const labels = { app: "productpage", version: "v1" };
    const inboundPort = await freePort();
    const register = (): void => {
      cp.register("default", "productpage-v1-0", {
        instance: { name: "productpage-v1-0", workload: "productpage-v1", namespace: "default", labels, serviceAccount: "bookinfo-productpage", address: "127.0.0.1", ready: true, sidecar: true, ports: { "9080": inboundPort }, appPorts: { "9080": upstreamPort } },
        nodeId: NODE,
        node: { id: NODE, kind: "sidecar", workload: "productpage-v1", namespace: "default", labels, serviceAccount: "bookinfo-productpage", trustDomain: "cluster.local", ip: "127.0.0.1" },
        outboundPort: listenPort,
      });
    };
    const registerPeer = (i: number): void => {
      const name = `productpage-v1-${i}`;
      const node = `sidecar~${name}.default`;
      const address = `127.0.0.${1 + i}`;
      cp.register("default", name, {
        instance: { name, workload: "productpage-v1", namespace: "default", labels, serviceAccount: "bookinfo-productpage", address, ready: true, sidecar: true, ports: { "9080": inboundPort }, appPorts: { "9080": upstreamPort } },
        nodeId: node,
        node: { id: node, kind: "sidecar", workload: "productpage-v1", namespace: "default", labels, serviceAccount: "bookinfo-productpage", trustDomain: "cluster.local", ip: address },
        outboundPort: listenPort,
      });
    };
    const rootFile = join(workDir, "root-cert.pem");
    writeFileSync(rootFile, cp.trustBundle);
    return {
      register,
      registerPeer,
      args: ["--xds", cp.url, "--root-cert", rootFile, "--node", NODE],
      env: { ...process.env, AMIME_PROXY_TOKEN: cp.mintProxyToken({ node: NODE, namespace: "default", serviceAccount: "bookinfo-productpage" }) },
      config: () => {
        const c = cp.configFor(NODE);
        if (c === null) throw new Error(`the control plane has no config for ${NODE}`);
        return c;
      },
      close: () => cp.close({ drain: false }),
    };
  } catch (e) {
    await cp.close({ drain: false });
    throw e;
  }
}

async function applied(cp: ControlPlane, text: string, file: string): Promise<void> {
  const r = await cp.apply(text, file);
  if (!r.applied) throw new Error(`${file}: ${JSON.stringify(r.diagnostics.filter((d) => d.level === "error"))}`);
}

/** Bookinfo's instances other than productpage (reviews at the upstream), and two per extra service (as deployed.ts's). */
function workloadEntries(upstreamPort: number, extraServices: number): string {
  const entry = (name: string, ns: string, app: string, version: string, address: string, sa: string, ports = ""): string =>
    `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {address: "${address}", labels: {app: ${app}, version: ${version}}, serviceAccount: ${sa}${ports}}`;
  const docs = [
    entry("details-v1-0", "default", "details", "v1", "10.1.0.1", "bookinfo-details"),
    entry("ratings-v1-0", "default", "ratings", "v1", "10.1.0.2", "bookinfo-ratings"),
    ...["v1", "v2", "v3"].map((v) => entry(`reviews-${v}-0`, "default", "reviews", v, "127.0.0.1", "bookinfo-reviews", `, ports: {http: ${upstreamPort}}`)),
  ];
  for (let i = 0; i < extraServices; i++) {
    for (const [k, v] of ["v1", "v2"].entries()) docs.push(entry(`svc-${i}-${v}-0`, `ns-${i % 10}`, `svc-${i}`, v, `10.${2 + (i >> 8)}.${i & 255}.${k + 1}`, "default"));
  }
  return docs.join("\n---\n");
}
