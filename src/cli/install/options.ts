// The flags `amime install` and `amime uninstall` share, and the manifests they stand for.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { isObject, type JsonObject } from "../../model/resource.ts";
import { REPO_ROOT } from "../../runtime/paths.ts";
import { readFlags, UsageError } from "../lib/args.ts";
import { clusterCa } from "./cluster-ca.ts";
import type { KubectlTarget } from "./kubectl.ts";
import { DEFAULT_NAMESPACE, installManifests } from "./manifests.ts";

/** Istio's CRDs as shipped in the repository (manifests/crds/README.md says where from). */
export const CRDS_FILE = join(REPO_ROOT, "manifests", "crds", "crd-all.gen.yaml");
export const DEFAULT_IMAGE = "amime:0.1.0";

export interface InstallArgs {
  namespace: string;
  image: string;
  cacerts?: string;
  stateDir: string;
  trustDomain: string;
  output: "yaml" | "json";
  apply: boolean;
  dryRun?: "server" | "client";
  purge: boolean;
  target: KubectlTarget;
  help: boolean;
}

export function parseInstallArgs(argv: readonly string[], command: "install" | "uninstall"): InstallArgs {
  const out: InstallArgs = { namespace: DEFAULT_NAMESPACE, image: DEFAULT_IMAGE, stateDir: ".amime", trustDomain: "cluster.local", output: "yaml", apply: false, purge: false, target: { kubectl: "kubectl" }, help: false };
  out.help = readFlags(argv, {
    "-n, --namespace": (f) => {
      out.namespace = f.required("a namespace");
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(out.namespace)) throw new UsageError(`--namespace: "${out.namespace}" is not a lowercase RFC 1123 label`);
    },
    "--image": (f) => { out.image = f.required("an image"); },
    "--cacerts": (f) => { out.cacerts = resolve(f.required("a directory")); },
    "--state-dir": (f) => { out.stateDir = f.required("a directory"); },
    "--trust-domain": (f) => { out.trustDomain = f.required("a trust domain"); },
    "-o, --output": (f) => {
      const v = f.required("yaml or json");
      if (v !== "yaml" && v !== "json") throw new UsageError(`-o: "${v}" is not yaml or json`);
      out.output = v;
    },
    "--apply": () => { out.apply = true; },
    "--dry-run": (f) => {
      const v = f.required("server or client");
      if (v !== "server" && v !== "client") throw new UsageError(`--dry-run: "${v}" is not server or client`);
      out.dryRun = v;
    },
    "--purge": () => {
      if (command !== "uninstall") throw new UsageError("--purge is an uninstall flag");
      out.purge = true;
    },
    "--kubeconfig": (f) => { out.target.kubeconfig = f.required("a file"); },
    "--context": (f) => { out.target.context = f.required("a context name"); },
    "--kubectl": (f) => { out.target.kubectl = f.required("a path"); },
  });
  if (out.dryRun !== undefined && !out.apply) throw new UsageError("--dry-run needs --apply (without it nothing is sent)");
  return out;
}

/** Istio's CRDs from the repository, as objects. */
export async function istioCrds(): Promise<JsonObject[]> {
  const text = await readFile(CRDS_FILE, "utf8");
  return parseAllDocuments(text).map((d) => d.toJS() as unknown).filter(isObject);
}

/** The manifests; `withCa: false` (uninstall: only names are needed) neither reads nor makes a CA. */
export async function manifestsOf(a: InstallArgs, withCa = true): Promise<JsonObject[]> {
  const ca = withCa ? clusterCa({ ...(a.cacerts !== undefined ? { cacertsDir: a.cacerts } : {}), stateDir: a.stateDir, trustDomain: a.trustDomain }) : Promise.resolve({});
  const [crds, cacerts] = await Promise.all([istioCrds(), ca]);
  return installManifests({ namespace: a.namespace, image: a.image, cacerts, crds });
}

/** The objects as one YAML stream (`---` between documents) or a JSON List. */
export function render(objects: readonly JsonObject[], output: "yaml" | "json", stringify: (o: JsonObject) => string): string {
  if (output === "json") return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
  return objects.map(stringify).join("---\n");
}
