// Whether a pod gets a sidecar: Istio's injection policy. The namespace side (`istio-injection:
// enabled`, or a pod that asks with `sidecar.istio.io/inject: "true"` in an unlabelled namespace)
// is decided by the webhook's namespaceSelector / objectSelector, which `amime install` writes as
// Istio's four injector webhooks do; what the API server sends is then judged here on the pod
// alone, as istiod's injectRequired: never in kube-system / kube-public, never with hostNetwork,
// never twice, and `sidecar.istio.io/inject` (label, or the older annotation) other than y/yes/true/on
// ("false", "no"…) leaves the pod alone. Pure.
import { isObject, type JsonObject } from "../../../model/resource.ts";

export const INJECT_LABEL = "sidecar.istio.io/inject";
export const STATUS_ANNOTATION = "sidecar.istio.io/status";
export const NAMESPACE_LABEL = "istio-injection";
/** Istio's IgnoredNamespaces. */
export const IGNORED_NAMESPACES = ["kube-system", "kube-public"] as const;

export type InjectionDecision = { inject: true } | { inject: false; reason: string };

export function injectionDecision(pod: JsonObject, namespace: string): InjectionDecision {
  const meta = isObject(pod.metadata) ? pod.metadata : {};
  const spec = isObject(pod.spec) ? pod.spec : {};
  if ((IGNORED_NAMESPACES as readonly string[]).includes(namespace)) return { inject: false, reason: `namespace ${namespace} is never injected` };
  if (spec.hostNetwork === true) return { inject: false, reason: "the pod uses the host's network (hostNetwork)" };
  const labels = isObject(meta.labels) ? meta.labels : {};
  const annotations = isObject(meta.annotations) ? meta.annotations : {};
  if (typeof annotations[STATUS_ANNOTATION] === "string") return { inject: false, reason: `already injected (${STATUS_ANNOTATION})` };
  // The label is Istio's current switch; the annotation its older one. The label wins when both are set.
  const asked = typeof labels[INJECT_LABEL] === "string" ? labels[INJECT_LABEL] : annotations[INJECT_LABEL];
  if (typeof asked === "string" && asked !== "" && !isTrue(asked)) return { inject: false, reason: `${INJECT_LABEL}: "${asked}"` };
  return { inject: true };
}

/** As istiod's injectRequired: y, yes, true, on (any case) ask for a sidecar; any other non-empty value refuses it. */
function isTrue(v: string): boolean {
  return ["y", "yes", "true", "on"].includes(v.toLowerCase());
}
