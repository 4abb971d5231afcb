// A pod's volumes, as a kubelet makes them, in a per-pod directory on the host: emptyDir (an empty
// directory, 0777), configMap and secret (a file per key, or per listed item), downwardAPI, and
// projected (service-account tokens, configMap, secret and downwardAPI sources in one directory).
// A projected service-account token is requested from the API server (TokenRequest on
// `serviceaccounts/<sa>/token` with the source's audience and expiry, bound to the pod, so it dies
// with it) and renewed, as the kubelet does, once 80 % of its lifetime has passed. Files are
// 0644 (the kubelet's default mode) and replaced by rename, so a reader never sees half a file.
// What the containers see of them is mount.ts's business. Other volume types fail the pod.
import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fieldOf, type DataLookup } from "./pod-env.ts";
import { ContainerStartError } from "./images.ts";
import type { KubeApi } from "./kube-api.ts";
import type { Pod, PodVolume, ProjectedSource } from "./pod-types.ts";

export interface PodVolumes {
  /** Volume name → its directory on the host. */
  dirs: Map<string, string>;
  /** Stops the token renewals. */
  close(): void;
}

const RENEW_AT = 0.8;

export async function prepareVolumes(pod: Pod, podDir: string, api: KubeApi, lookup: DataLookup, log: (line: string) => void): Promise<PodVolumes> {
  const dirs = new Map<string, string>();
  const timers: NodeJS.Timeout[] = [];
  const ns = pod.metadata.namespace ?? "default";
  const close = (): void => timers.forEach((t) => clearTimeout(t));
  try {
    for (const v of pod.spec.volumes ?? []) {
      const dir = join(podDir, "volumes", v.name);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      dirs.set(v.name, dir);
      if (v.emptyDir !== undefined) await chmod(dir, 0o777);
      else if (v.configMap !== undefined) await writeData(dir, "configmaps", v.configMap.name, v.configMap.items, v.configMap.optional, ns, lookup);
      else if (v.secret !== undefined) await writeData(dir, "secrets", v.secret.secretName, v.secret.items, v.secret.optional, ns, lookup);
      else if (v.downwardAPI !== undefined) await writeDownward(dir, pod, v.downwardAPI.items);
      else if (v.projected !== undefined) {
        for (const s of v.projected.sources ?? []) await writeProjected(dir, s, pod, api, lookup, timers, log);
      } else throw new ContainerStartError("CreateContainerConfigError", `volume ${v.name}: the test node agent makes emptyDir, configMap, secret, downwardAPI and projected volumes only (${typeOf(v)})`);
    }
  } catch (e) {
    close();
    throw e;
  }
  return { dirs, close };
}

function typeOf(v: PodVolume): string {
  return Object.keys(v).filter((k) => k !== "name").join(", ") || "no source";
}

async function writeData(dir: string, kind: "configmaps" | "secrets", name: string, items: { key: string; path: string }[] | undefined, optional: boolean | undefined, ns: string, lookup: DataLookup): Promise<void> {
  const data = await lookup(kind, ns, name);
  if (data === null) {
    if (optional === true) return;
    throw new ContainerStartError("CreateContainerConfigError", `${kind === "configmaps" ? "configmap" : "secret"} "${name}" not found`);
  }
  const decode = (v: string): string | Buffer => (kind === "secrets" ? Buffer.from(v, "base64") : v);
  for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
    const v = data[key];
    if (v === undefined) {
      if (optional === true) continue;
      throw new ContainerStartError("CreateContainerConfigError", `key "${key}" of ${kind === "configmaps" ? "configmap" : "secret"} "${name}" not found`);
    }
    await put(dir, path, decode(v));
  }
}

async function writeDownward(dir: string, pod: Pod, items: { path: string; fieldRef?: { fieldPath: string } }[] | undefined): Promise<void> {
  for (const item of items ?? []) {
    if (item.fieldRef === undefined) throw new ContainerStartError("CreateContainerConfigError", `downwardAPI ${item.path}: only fieldRef items are made by the test node agent`);
    await put(dir, item.path, fieldOf(pod, item.fieldRef.fieldPath));
  }
}

async function writeProjected(dir: string, s: ProjectedSource, pod: Pod, api: KubeApi, lookup: DataLookup, timers: NodeJS.Timeout[], log: (line: string) => void): Promise<void> {
  const ns = pod.metadata.namespace ?? "default";
  if (s.configMap !== undefined) return writeData(dir, "configmaps", s.configMap.name, s.configMap.items, s.configMap.optional, ns, lookup);
  if (s.secret !== undefined) return writeData(dir, "secrets", s.secret.name, s.secret.items, s.secret.optional, ns, lookup);
  if (s.downwardAPI !== undefined) return writeDownward(dir, pod, s.downwardAPI.items);
  const t = s.serviceAccountToken;
  if (t === undefined) throw new ContainerStartError("CreateContainerConfigError", "projected volume: unknown source (the test node agent makes serviceAccountToken, configMap, secret, downwardAPI)");
  const sa = pod.spec.serviceAccountName ?? "default";
  const request = async (): Promise<number> => {
    const a = await api.post(`/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { audiences: t.audience ? [t.audience] : [], expirationSeconds: t.expirationSeconds ?? 3600, boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid } },
    });
    const status = a.body.status as { token?: string; expirationTimestamp?: string } | undefined;
    if (a.status !== 201 || status?.token === undefined) throw new ContainerStartError("CreateContainerConfigError", `token for service account ${ns}/${sa}: ${a.status} ${a.body.message ?? ""}`);
    await put(dir, t.path, status.token);
    return Date.parse(status.expirationTimestamp ?? "") - Date.now();
  };
  const renew = (lifetimeMs: number): void => {
    const timer = setTimeout(() => {
      request().then(renew, (e: Error) => {
        log(`pod ${ns}/${pod.metadata.name}: token renewal failed, retrying in 10 s: ${e.message}`);
        renew(10_000 / RENEW_AT);
      });
    }, Math.max(1000, lifetimeMs * RENEW_AT));
    timer.unref();
    timers.push(timer);
  };
  renew(await request());
}

/** Write one file of a volume, replacing any old one at once (a rename). */
async function put(dir: string, path: string, content: string | Buffer): Promise<void> {
  if (path.split("/").includes("..") || path.startsWith("/")) throw new ContainerStartError("CreateContainerConfigError", `volume path "${path}" must be relative and stay inside the volume`);
  const file = join(dir, path);
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  await writeFile(`${file}.tmp`, content, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
}
