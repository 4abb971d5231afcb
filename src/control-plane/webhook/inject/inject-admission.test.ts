import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../../model/resource.ts";
import { readReview, type AdmissionResponse } from "../admission-review.ts";
import { injectAdmission } from "./inject-admission.ts";
import { injectionDecision } from "./policy.ts";
import type { InjectorSettings } from "./template.ts";

const settings: InjectorSettings = {
  image: "registry.example/amime:0.1.0",
  controlPlaneUrl: "https://amime.istio-system.svc:15012",
  rootCertConfigMap: "istio-ca-root-cert",
  tokenAudience: "istio-ca",
  holdApplicationUntilProxyStarts: false,
};
const inject = injectAdmission(settings);

function pod(over: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: JsonObject } = {}): JsonObject {
  const metadata: JsonObject = { generateName: "reviews-v1-5d7b6cf9c8-", namespace: "bookinfo", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "reviews-v1-5d7b6cf9c8", uid: "u" }], labels: { app: "reviews", version: "v1", ...over.labels } };
  if (over.annotations) metadata.annotations = over.annotations;
  return { apiVersion: "v1", kind: "Pod", metadata, spec: over.spec ?? { serviceAccountName: "bookinfo-reviews", containers: [{ name: "reviews", image: "reviews:1", ports: [{ containerPort: 9080 }, { containerPort: 9090, protocol: "TCP" }] }] } };
}

function admit(object: JsonObject, namespace = "bookinfo"): AdmissionResponse {
  return inject(readReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u1", kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE", namespace, object } }));
}

type Op = { op: string; path: string; value: JsonObject & JsonObject[] };
function ops(r: AdmissionResponse): Op[] {
  assert.equal(r.allowed, true, r.status?.message);
  assert.equal(r.patchType, "JSONPatch");
  return JSON.parse(Buffer.from(r.patch as string, "base64").toString("utf8")) as Op[];
}
const at = (list: Op[], path: string): Op => list.find((o) => o.path === path) ?? assert.fail(`no op at ${path}: ${list.map((o) => o.path).join(" ")}`);

describe("sidecar injection", () => {
  it("adds istio-init first, istio-proxy last, the token and root volumes, Istio's annotations and labels", () => {
    const list = ops(admit(pod()));
    const init = at(list, "/spec/initContainers").value[0] as JsonObject;
    assert.equal(init.name, "istio-init");
    assert.deepEqual(init.args, ["capture", "--pod-ip", "$(POD_IP)", "--node-ip", "$(HOST_IP)", "--inbound-ports", "9080:15006,9090:15101"]);
    assert.deepEqual((init.securityContext as JsonObject).capabilities, { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] });
    const proxy = at(list, "/spec/containers/-").value;
    assert.equal(proxy.name, "istio-proxy");
    assert.equal(proxy.image, "registry.example/amime:0.1.0");
    // The image's Node on the bundle of its built tree, with the sidecar's heap flags (Istio's proxyv2 runs pilot-agent).
    assert.deepEqual(proxy.command, ["node", "--max-semi-space-size=1", "--expose-gc", "--no-maglev", "--v8-pool-size=1", "--use-openssl-ca", "--no-sparkplug", "--max-inlined-bytecode-size-cumulative=230", "--no-node-snapshot", "--concurrent-recompilation-queue-length=1", "/amime/dist/bundle/run-proxy.js"]);
    // The image's bundle of it and the sidecar's environment (glibc's mmap threshold: src/core/sidecar-node-flags.ts).
    assert.ok((proxy.env as JsonObject[]).some((e) => e.name === "MALLOC_MMAP_THRESHOLD_" && e.value === "131072"), JSON.stringify(proxy.env));
    // OpenSSL's default store empty (--use-openssl-ca): the image's CA bundle is read only when a config trusts by default.
    for (const name of ["SSL_CERT_FILE", "SSL_CERT_DIR"]) assert.ok((proxy.env as JsonObject[]).some((e) => e.name === name && e.value === "/dev/null"), JSON.stringify(proxy.env));
    assert.deepEqual((proxy.args as string[]).slice(0, 5), ["proxy", "--xds", "https://amime.istio-system.svc:15012", "--node", "sidecar~$(POD_NAME).$(POD_NAMESPACE)"]);
    // Istio's ports: the admin on loopback only; the read-only status (probes) and Prometheus ports on every address.
    assert.deepEqual((proxy.args as string[]).slice(9), ["--admin-address", "127.0.0.1", "--admin-port", "15000", "--status-port", "15021", "--status-address", "0.0.0.0", "--prometheus-address", "0.0.0.0"]);
    assert.deepEqual(proxy.ports, [{ containerPort: 15090, name: "http-envoy-prom", protocol: "TCP" }]);
    assert.deepEqual(proxy.readinessProbe, { httpGet: { path: "/healthz/ready", port: 15021 }, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 });
    assert.deepEqual(proxy.startupProbe, { httpGet: { path: "/healthz/ready", port: 15021 }, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 });
    assert.equal((proxy.securityContext as JsonObject).runAsUser, 1337);
    assert.equal(proxy.lifecycle, undefined);
    assert.deepEqual(proxy.resources, { limits: { cpu: "2000m", memory: "1024Mi" }, requests: { cpu: "100m", memory: "128Mi" } });
    const vols = at(list, "/spec/volumes").value.map((v) => v.name);
    assert.deepEqual(vols, ["istio-token", "istiod-ca-cert"]);
    const annotations = at(list, "/metadata/annotations").value;
    assert.equal(annotations["sidecar.istio.io/status"], '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}');
    assert.equal(annotations["kubectl.kubernetes.io/default-container"], "reviews");
    assert.deepEqual([annotations["prometheus.io/scrape"], annotations["prometheus.io/port"], annotations["prometheus.io/path"]], ["true", "15090", "/stats/prometheus"]);
    const labels = list.filter((o) => o.path.startsWith("/metadata/labels/")).map((o) => [o.path, o.value]);
    assert.deepEqual(labels, [
      ["/metadata/labels/security.istio.io~1tlsMode", "istio"],
      ["/metadata/labels/service.istio.io~1canonical-name", "reviews"],
      ["/metadata/labels/service.istio.io~1canonical-revision", "v1"],
    ]);
  });

  it("honours the capture and resource annotations", () => {
    const list = ops(admit(pod({ annotations: {
      "traffic.sidecar.istio.io/excludeOutboundPorts": "3306, 6379",
      "traffic.sidecar.istio.io/excludeInboundPorts": "9090",
      "traffic.sidecar.istio.io/excludeOutboundIPRanges": "169.254.169.254/32",
      "traffic.sidecar.istio.io/includeOutboundIPRanges": "10.96.0.0/12",
      "sidecar.istio.io/proxyCPU": "50m",
      "sidecar.istio.io/proxyMemory": "64Mi",
      "sidecar.istio.io/proxyCPULimit": "1",
      "sidecar.istio.io/proxyMemoryLimit": "256Mi",
    } })));
    const init = at(list, "/spec/initContainers").value[0] as JsonObject;
    assert.deepEqual((init.args as string[]).slice(7), ["--exclude-outbound-ports", "3306,6379", "--exclude-inbound-ports", "9090", "--exclude-outbound-ip-ranges", "169.254.169.254/32", "--include-outbound-ip-ranges", "10.96.0.0/12"]);
    assert.deepEqual(at(list, "/spec/containers/-").value.resources, { limits: { cpu: "1", memory: "256Mi" }, requests: { cpu: "50m", memory: "64Mi" } });
    // An existing annotations map gets one op per key, the key escaped (RFC 6901).
    assert.ok(list.some((o) => o.path === "/metadata/annotations/sidecar.istio.io~1status"));
  });

  it("holdApplicationUntilProxyStarts (pod annotation or mesh default): sidecar first, with a postStart wait", () => {
    const list = ops(admit(pod({ annotations: { "proxy.istio.io/config": "holdApplicationUntilProxyStarts: true" } })));
    const first = at(list, "/spec/containers/0").value;
    assert.equal(first.name, "istio-proxy");
    assert.deepEqual(first.lifecycle, { postStart: { exec: { command: ["amime", "wait"] } } });
    const byDefault = ops(injectAdmission({ ...settings, holdApplicationUntilProxyStarts: true })(readReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u", kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE", namespace: "bookinfo", object: pod() } })));
    assert.equal(at(byDefault, "/spec/containers/0").value.name, "istio-proxy");
    const optedOut = ops(injectAdmission({ ...settings, holdApplicationUntilProxyStarts: true })(readReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u", kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE", namespace: "bookinfo", object: pod({ annotations: { "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": false}' } }) } })));
    assert.equal(at(optedOut, "/spec/containers/-").value.name, "istio-proxy");
  });

  it("denies a pod whose injection annotation is bad, naming it", () => {
    const cpu = admit(pod({ annotations: { "sidecar.istio.io/proxyCPU": "lots" } }));
    assert.equal(cpu.allowed, false);
    assert.equal(cpu.status?.message, 'sidecar injection refused: Pod bookinfo/reviews-v1-5d7b6cf9c8-*: metadata.annotations["sidecar.istio.io/proxyCPU"]: "lots" is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1G)');
    const port = admit(pod({ annotations: { "traffic.sidecar.istio.io/excludeOutboundPorts": "70000" } }));
    assert.match(port.status?.message ?? "", /excludeOutboundPorts"\]: "70000" is not a port/);
    const config = admit(pod({ annotations: { "proxy.istio.io/config": "holdApplicationUntilProxyStarts: yes please" } }));
    assert.match(config.status?.message ?? "", /holdApplicationUntilProxyStarts must be true or false/);
    const reserved = admit(pod({ spec: { containers: [{ name: "a", ports: [{ containerPort: 15001 }] }] } }));
    assert.match(reserved.status?.message ?? "", /spec\.containers\[0\]\.ports\[0\]\.containerPort: 15001 is in 15000-15399/);
  });

  it("warns about annotations it does not apply, and injects", () => {
    const r = admit(pod({ annotations: { "traffic.sidecar.istio.io/includeInboundPorts": "9080", "proxy.istio.io/config": "concurrency: 2" } }));
    assert.equal(r.allowed, true);
    assert.equal(r.warnings?.length, 2, JSON.stringify(r.warnings));
    assert.match(r.warnings?.[0] ?? "", /includeInboundPorts is not applied/);
    assert.match(r.warnings?.[1] ?? "", /concurrency not applied/);
  });

  it("leaves alone: opted-out pods, injected pods, hostNetwork, kube-system, other kinds and updates", () => {
    for (const v of ["false", "0", "FALSE", "no", "disabled"]) assert.deepEqual(admit(pod({ labels: { "sidecar.istio.io/inject": v } })), { uid: "u1", allowed: true });
    assert.deepEqual(admit(pod({ annotations: { "sidecar.istio.io/inject": "false" } })), { uid: "u1", allowed: true });
    assert.deepEqual(admit(pod({ annotations: { "sidecar.istio.io/status": "{}" } })), { uid: "u1", allowed: true });
    assert.deepEqual(admit(pod({ spec: { hostNetwork: true, containers: [] } })), { uid: "u1", allowed: true });
    assert.deepEqual(admit(pod(), "kube-system"), { uid: "u1", allowed: true });
    const update = inject(readReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u2", kind: { group: "", version: "v1", kind: "Pod" }, operation: "UPDATE", namespace: "bookinfo", object: pod() } }));
    assert.deepEqual(update, { uid: "u2", allowed: true });
  });

  it("Istio's precedence: the pod label beats the older annotation; true anywhere does not override false on the label", () => {
    assert.equal(injectionDecision(pod({ labels: { "sidecar.istio.io/inject": "true" }, annotations: { "sidecar.istio.io/inject": "false" } }), "ns").inject, true);
    assert.equal(injectionDecision(pod({ labels: { "sidecar.istio.io/inject": "false" }, annotations: { "sidecar.istio.io/inject": "true" } }), "ns").inject, false);
    assert.equal(injectionDecision(pod(), "kube-public").inject, false);
    for (const v of ["y", "Yes", "TRUE", "on", ""]) assert.equal(injectionDecision(pod({ labels: { "sidecar.istio.io/inject": v } }), "ns").inject, true, v);
  });
});
