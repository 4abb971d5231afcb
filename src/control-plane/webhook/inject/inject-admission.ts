// The mutating webhook's decision (istiod's `/inject`): a pod being created gets the capture init
// container, the sidecar and Istio's annotations and labels as a JSON Patch, unless the injection
// policy (policy.ts) leaves it alone; a bad injection annotation denies it with the annotation's
// name. Pure.
import { isObject, type Json, type JsonObject } from "../../../model/resource.ts";
import { allow, deny, type AdmissionRequest, type AdmissionResponse } from "../admission-review.ts";
import { InjectionAnnotationError, injectionAnnotations } from "./annotations.ts";
import { PROMETHEUS_PORT } from "../../../model/sidecar-pod.ts";
import { inboundPorts } from "./inbound-ports.ts";
import { addToList, addToMap, type PatchOp } from "./json-patch.ts";
import { injectionDecision, STATUS_ANNOTATION } from "./policy.ts";
import { initContainer, PROXY_CONTAINER, proxyContainer, statusAnnotation, volumes, type InjectorSettings } from "./template.ts";

export function injectAdmission(settings: InjectorSettings): (req: AdmissionRequest) => AdmissionResponse {
  return (req) => {
    if (req.kind.group !== "" || req.kind.kind !== "Pod" || req.operation !== "CREATE" || req.object === null) return allow(req.uid);
    const pod = req.object;
    const meta = isObject(pod.metadata) ? pod.metadata : {};
    const spec = isObject(pod.spec) ? pod.spec : {};
    const namespace = req.namespace || (typeof meta.namespace === "string" ? meta.namespace : "") || "default";
    if (!injectionDecision(pod, namespace).inject) return allow(req.uid);
    const origin = `Pod ${namespace}/${podName(meta)}`;
    const annotations = strings(meta.annotations);
    const labels = strings(meta.labels);
    const containers = Array.isArray(spec.containers) ? spec.containers.filter(isObject) : [];
    let read;
    try {
      read = injectionAnnotations(annotations, origin);
    } catch (e) {
      if (e instanceof InjectionAnnotationError) return deny(req.uid, `sidecar injection refused: ${e.message}`);
      throw e;
    }
    const inbound = inboundPorts(spec.containers);
    if ("error" in inbound) return deny(req.uid, `sidecar injection refused: ${origin}: ${inbound.error} (exclude the pod with the label sidecar.istio.io/inject: "false")`);
    const sidecar = { capture: read.capture, inbound: inbound.ports, resources: read.resources };
    const hold = read.holdApplication ?? settings.holdApplicationUntilProxyStarts;
    const firstApp = typeof containers[0]?.name === "string" ? containers[0].name : PROXY_CONTAINER;
    const ops: PatchOp[] = [
      ...addToList(spec.initContainers, "/spec/initContainers", [initContainer(settings, sidecar)], "first"),
      ...addToList(spec.containers, "/spec/containers", [proxyContainer(settings, sidecar, hold)], hold ? "first" : "last"),
      ...addToList(spec.volumes, "/spec/volumes", volumes(settings), "last"),
      ...addToMap(meta.annotations, "/metadata/annotations", absent(annotations, {
        [STATUS_ANNOTATION]: statusAnnotation(),
        "kubectl.kubernetes.io/default-container": firstApp,
        "kubectl.kubernetes.io/default-logs-container": firstApp,
        "prometheus.io/scrape": "true",
        // Istio annotates its agent's 15020 (the app's metrics merged in); Amime has no merging,
        // so it names the sidecar's own Prometheus port, 15090 (docs/kubernetes.md).
        "prometheus.io/port": String(PROMETHEUS_PORT),
        "prometheus.io/path": "/stats/prometheus",
        "istio.io/rev": "default",
      })),
      ...addToMap(meta.labels, "/metadata/labels", absent(labels, {
        "security.istio.io/tlsMode": "istio",
        "service.istio.io/canonical-name": labels["app.kubernetes.io/name"] ?? labels.app ?? workloadName(meta),
        "service.istio.io/canonical-revision": labels["app.kubernetes.io/version"] ?? labels.version ?? "latest",
      })),
    ];
    const r = allow(req.uid, read.warnings);
    return { ...r, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(ops)).toString("base64") };
  };
}

function strings(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/** Only the entries the pod does not set itself (Istio keeps a pod's own values). */
function absent(have: Readonly<Record<string, string>>, add: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(add).filter(([k]) => have[k] === undefined));
}

function podName(meta: JsonObject): string {
  if (typeof meta.name === "string" && meta.name !== "") return meta.name;
  return typeof meta.generateName === "string" ? `${meta.generateName}*` : "<unnamed>";
}

/** A Deployment's pod `reviews-v1-5d7b6cf9c8-x7k2p` (generateName `reviews-v1-5d7b6cf9c8-`) → `reviews-v1`, as Istio names the workload. */
function workloadName(meta: JsonObject): string {
  const base = typeof meta.generateName === "string" && meta.generateName !== "" ? meta.generateName.replace(/-$/, "") : typeof meta.name === "string" ? meta.name : "";
  const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.filter(isObject) : [];
  if (owners.some((o) => o.kind === "ReplicaSet")) return base.replace(/-[a-z0-9]{5,10}$/, "");
  return base;
}
