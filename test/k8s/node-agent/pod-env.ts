// A container's environment as a kubelet builds it: the image's env, then `envFrom` (ConfigMaps,
// Secrets, with their prefix), then `env` in order, each value's `$(VAR)` expanded from what came
// before; `valueFrom` reads a field of the pod (the downward API), a ConfigMap key or a Secret key.
// Plus HOSTNAME (the pod's host name) and a PATH for the local programs; the runner passes HOME and
// the `kubernetes` Service's KUBERNETES_SERVICE_* (always set by the kubelet) with the image's env.
// Not set: the other Services' `<SVC>_SERVICE_HOST` variables of enableServiceLinks.
import { ContainerStartError, expand } from "./images.ts";
import type { Pod, PodContainer } from "./pod-types.ts";

/** Reads a ConfigMap's or Secret's data (Secret values base64, as stored); null when it does not exist. */
export type DataLookup = (kind: "configmaps" | "secrets", namespace: string, name: string) => Promise<Record<string, string> | null>;

export async function containerEnv(pod: Pod, c: PodContainer, imageEnv: Readonly<Record<string, string>>, lookup: DataLookup): Promise<Record<string, string>> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOSTNAME: hostnameOf(pod), ...imageEnv };
  const ns = pod.metadata.namespace ?? "default";
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (ref === undefined) continue;
    const kind = from.configMapRef !== undefined ? "configmaps" : "secrets";
    const data = await lookup(kind, ns, ref.name);
    if (data === null) {
      if (ref.optional === true) continue;
      throw new ContainerStartError("CreateContainerConfigError", `${kind === "configmaps" ? "configmap" : "secret"} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ""}${k}`] = kind === "secrets" ? Buffer.from(v, "base64").toString("utf8") : v;
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expand(e.value ?? "", env);
      continue;
    }
    const v = await valueFrom(pod, e.name, e.valueFrom, lookup);
    if (v !== null) env[e.name] = v;
  }
  return env;
}

export function hostnameOf(pod: Pod): string {
  return (pod.spec.hostname ?? pod.metadata.name).slice(0, 63);
}

async function valueFrom(pod: Pod, name: string, from: NonNullable<NonNullable<PodContainer["env"]>[number]["valueFrom"]>, lookup: DataLookup): Promise<string | null> {
  if (from.fieldRef !== undefined) return fieldOf(pod, from.fieldRef.fieldPath);
  const ref = from.configMapKeyRef ?? from.secretKeyRef;
  if (ref !== undefined) {
    const kind = from.configMapKeyRef !== undefined ? "configmaps" : "secrets";
    const data = await lookup(kind, pod.metadata.namespace ?? "default", ref.name);
    const v = data?.[ref.key];
    if (v === undefined) {
      if (ref.optional === true) return null;
      throw new ContainerStartError("CreateContainerConfigError", `env ${name}: key "${ref.key}" of ${kind === "configmaps" ? "configmap" : "secret"} "${ref.name}" not found`);
    }
    return kind === "secrets" ? Buffer.from(v, "base64").toString("utf8") : v;
  }
  throw new ContainerStartError("CreateContainerConfigError", `env ${name}: the test node agent reads fieldRef, configMapKeyRef and secretKeyRef only (not resourceFieldRef / fileKeyRef)`);
}

/** A downward-API field of the pod (the paths a kubelet accepts for env and volumes). */
export function fieldOf(pod: Pod, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m !== null) return (m[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]!] ?? "";
  switch (path) {
    case "metadata.name":
      return pod.metadata.name;
    case "metadata.namespace":
      return pod.metadata.namespace ?? "default";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "metadata.labels":
    case "metadata.annotations":
      return Object.entries((path === "metadata.labels" ? pod.metadata.labels : pod.metadata.annotations) ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n");
    case "spec.nodeName":
      return pod.spec.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec.serviceAccountName ?? "default";
    case "status.hostIP":
    case "status.hostIPs":
      return pod.status?.hostIP ?? "";
    case "status.podIP":
    case "status.podIPs":
      return pod.status?.podIP ?? "";
    default:
      throw new ContainerStartError("CreateContainerConfigError", `fieldRef ${path}: not a field the downward API offers`);
  }
}
