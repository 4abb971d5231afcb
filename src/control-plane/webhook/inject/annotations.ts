// Istio's injection annotations on a pod, read and checked: a bad value denies the pod with the
// annotation's name (as istiod's validateAnnotations), so nothing runs with a setting it did not
// ask for. Annotations Amime does not apply come back as warnings. Pure.
import { parse as parseYaml } from "yaml";
import { isObject } from "../../../model/resource.ts";
import { captureAnnotations, type CaptureAnnotations } from "../../../model/sidecar-pod.ts";

export interface SidecarResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface InjectionAnnotations {
  capture: CaptureAnnotations;
  resources: SidecarResources;
  /** proxy.istio.io/config holdApplicationUntilProxyStarts (else the mesh default). */
  holdApplication: boolean | undefined;
  warnings: string[];
}

/** A pod annotation has a value Amime cannot use (layer: sidecar injector). */
export class InjectionAnnotationError extends Error {
  readonly code = "CP_INJECT_ANNOTATION";
}

/** Istio's values.global.proxy.resources. */
export const DEFAULT_PROXY_RESOURCES: SidecarResources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } };

// A Kubernetes resource.Quantity: a decimal number with an optional SI or binary suffix.
const QUANTITY = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

const RESOURCE_ANNOTATIONS = [
  ["sidecar.istio.io/proxyCPU", "requests", "cpu"],
  ["sidecar.istio.io/proxyMemory", "requests", "memory"],
  ["sidecar.istio.io/proxyCPULimit", "limits", "cpu"],
  ["sidecar.istio.io/proxyMemoryLimit", "limits", "memory"],
] as const;

/** Accepted and applied by Istio but not by Amime's capture: injected, with a warning. */
const NOT_APPLIED = ["traffic.sidecar.istio.io/includeInboundPorts", "traffic.sidecar.istio.io/includeOutboundPorts", "traffic.sidecar.istio.io/excludeInterfaces"] as const;

export function injectionAnnotations(annotations: Readonly<Record<string, string>>, origin: string): InjectionAnnotations {
  const warnings: string[] = [];
  let capture: CaptureAnnotations;
  try {
    capture = captureAnnotations(annotations, origin);
  } catch (e) {
    throw new InjectionAnnotationError((e as Error).message);
  }
  const resources: SidecarResources = { requests: { ...DEFAULT_PROXY_RESOURCES.requests }, limits: { ...DEFAULT_PROXY_RESOURCES.limits } };
  for (const [key, side, what] of RESOURCE_ANNOTATIONS) {
    const v = annotations[key];
    if (v === undefined) continue;
    if (!QUANTITY.test(v.trim())) throw new InjectionAnnotationError(`${origin}: metadata.annotations["${key}"]: "${v}" is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1G)`);
    resources[side][what] = v.trim();
  }
  for (const key of NOT_APPLIED) {
    const v = annotations[key];
    // "*" for the include lists is Istio's default (capture everything), which is what Amime does.
    if (v !== undefined && v.trim() !== "" && v.trim() !== "*") warnings.push(`${key} is not applied by Amime's capture rules (every declared port and every outbound port is captured but the excluded ones); the pod is injected without it`);
  }
  return { capture, resources, holdApplication: holdApplication(annotations["proxy.istio.io/config"], origin, warnings), warnings };
}

/** `proxy.istio.io/config`: a ProxyConfig in YAML or JSON; only holdApplicationUntilProxyStarts is applied at injection. */
function holdApplication(text: string | undefined, origin: string, warnings: string[]): boolean | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const at = `${origin}: metadata.annotations["proxy.istio.io/config"]`;
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new InjectionAnnotationError(`${at}: not YAML or JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!isObject(value)) throw new InjectionAnnotationError(`${at}: must be a ProxyConfig object`);
  const hold = value.holdApplicationUntilProxyStarts;
  if (hold !== undefined && typeof hold !== "boolean") throw new InjectionAnnotationError(`${at}: holdApplicationUntilProxyStarts must be true or false`);
  const others = Object.keys(value).filter((k) => k !== "holdApplicationUntilProxyStarts");
  if (others.length > 0) warnings.push(`proxy.istio.io/config: ${others.join(", ")} not applied by Amime's injector (only holdApplicationUntilProxyStarts is)`);
  return hold;
}
