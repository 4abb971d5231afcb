// `amime analyze`: load config from files, directories or stdin, validate each resource and check
// them against each other, like `istioctl analyze`. Exit 1 on errors, 0 otherwise, 2 on usage errors.
import { stat } from "node:fs/promises";
import { analyze, type AnalyzeOptions } from "../config/analyze/index.ts";
import type { Diagnostic } from "../model/diagnostic.ts";
import { parseDocuments, type ParseResult } from "../config/parse.ts";
import { loadConfig, loadMeshConfig } from "../config/read-files.ts";
import { resourceKey } from "../control-plane/store/resource-set.ts";
import type { KubeConnection } from "../control-plane/kubernetes/kube-config.ts";
import type { Command } from "./command.ts";

export const ANALYZE_HELP = `Usage: amime analyze -f FILE|DIR|- [-f …] [--mesh-config FILE] [-o text|json] [--namespace NS]
       amime analyze --use-kube|--kubeconfig FILE|--context NAME [-f …] [options]

Check Istio-style config as a whole: every schema error \`amime validate\` finds, plus references
between resources (hosts, subsets, gateways), conflicting or unreachable routes, subsets and
selectors that match no workload, and mTLS settings that contradict each other.
Codes follow istioctl analyze (IST0101, …) where it has one; see docs/analyze.md.

Options:
  -f, --filename PATH   a YAML/JSON file, a directory (read recursively) or - for stdin; repeatable.
                        Paths may also be given without -f.
      --mesh-config FILE  the mesh's Istio MeshConfig (the \`mesh\` key of the istio ConfigMap, or that
                        ConfigMap): validated too; Telemetry providers are resolved against it
      --use-kube        also analyze the config of a Kubernetes cluster, found as kubectl finds it
                        ($KUBECONFIG, ~/.kube/config, else the pod's service account): Istio's
                        custom resources and Services of every namespace; files given with -f
                        are analyzed with it, replacing cluster objects of the same name; a TCP
                        Service port while no amime-node-agent DaemonSet runs is AMM1024
      --kubeconfig FILE  --use-kube with this kubeconfig
      --context NAME    --use-kube with this context of the kubeconfig (default: its current-context)
  -o, --output FORMAT   text (default) or json (an array of {level, code, message, resource, path, source})
  -n, --namespace NS    namespace of resources that do not set one (default "default")
  -h, --help            show this help

Exit status: 1 if any error was found, 0 otherwise (warnings and info do not fail), 2 on usage errors.
`;

interface Args {
  files: string[];
  output: "text" | "json";
  namespace: string;
  meshConfig?: string;
  /** Analyze the cluster's config too (--use-kube / --kubeconfig). */
  kube: boolean;
  kubeconfig?: string;
  /** --context: a context of the kubeconfig other than its current-context. */
  context?: string;
  help: boolean;
}

export class UsageError extends Error {
  readonly code = "AMIME_USAGE";
}

export function parseAnalyzeArgs(argv: readonly string[]): Args {
  const out: Args = { files: [], output: "text", namespace: "default", kube: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : arg.startsWith("-") && arg.length > 2 && arg[2] === "=" ? 2 : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-h": case "--help":
        out.help = true;
        break;
      case "-f": case "--filename":
        out.files.push(value());
        break;
      case "--mesh-config":
        out.meshConfig = value();
        break;
      case "--use-kube":
        out.kube = true;
        break;
      case "--kubeconfig":
        out.kubeconfig = value();
        out.kube = true;
        break;
      case "--context":
        out.context = value();
        out.kube = true;
        break;
      case "-o": case "--output": {
        const v = value();
        if (v !== "text" && v !== "json") throw new UsageError(`unknown output format "${v}" (use text or json)`);
        out.output = v;
        break;
      }
      case "-n": case "--namespace": {
        const v = value();
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) throw new UsageError(`namespace "${v}" must be a lowercase RFC 1123 label`);
        out.namespace = v;
        break;
      }
      default:
        if (arg !== "-" && arg.startsWith("-")) throw new UsageError(`unknown flag ${flag}`);
        out.files.push(arg);
    }
  }
  return out;
}

export const analyzeCommand: Command = {
  name: "analyze",
  async run(argv: readonly string[]): Promise<number> {
    let args: Args;
    try {
      args = parseAnalyzeArgs(argv);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      process.stderr.write(`amime analyze: ${e.message}\n\n${ANALYZE_HELP}`);
      return 2;
    }
    if (args.help) {
      process.stdout.write(ANALYZE_HELP);
      return 0;
    }
    if (args.files.length === 0 && !args.kube) {
      process.stderr.write(`amime analyze: no config given; pass -f FILE, -f DIR or -f - (stdin)\n\n${ANALYZE_HELP}`);
      return 2;
    }
    for (const f of args.files) {
      if (f === "-") continue;
      try {
        await stat(f);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        process.stderr.write(`amime analyze: ${code === "ENOENT" ? `path "${f}" does not exist` : `cannot read "${f}": ${(e as Error).message}`}\n`);
        return 1;
      }
    }
    const loaded = await loadConfig(args.files);
    if (args.kube) {
      const cluster = await clusterConfig(args.kubeconfig, args.context);
      if (cluster === null) return 1;
      const local = new Set(loaded.resources.map(resourceKey));
      loaded.resources.unshift(...cluster.resources.filter((r) => !local.has(resourceKey(r))));
      loaded.diagnostics.unshift(...cluster.diagnostics);
    }
    const mesh = args.meshConfig !== undefined ? await loadMeshConfig(args.meshConfig) : null;
    const options: AnalyzeOptions = { namespace: args.namespace };
    if (mesh?.config) {
      options.meshConfig = mesh.config;
      if (mesh.config.rootNamespace) options.rootNamespace = mesh.config.rootNamespace;
    }
    const diagnostics = [...(mesh?.diagnostics ?? []), ...loaded.diagnostics, ...analyze(loaded.resources, options)];
    if (args.output === "json") process.stdout.write(`${JSON.stringify(diagnostics, null, 2)}\n`);
    else process.stdout.write(formatReport(diagnostics, loaded.resources.length));
    return diagnostics.some((d) => d.level === "error") ? 1 : 0;
  },
};

/** The cluster's Istio config and Services, parsed (null after printing why the cluster could not be read). */
async function clusterConfig(kubeconfig: string | undefined, context: string | undefined): Promise<ParseResult | null> {
  // Loaded only here: reading files never pays for the Kubernetes client.
  const { apiServerFailure, findKubeConfig, KubeApiError, listClusterConfig, nodeAgentInstalled, nodeAgentMissing } = await import("../control-plane/kubernetes/index.ts");
  let conn: KubeConnection;
  try {
    conn = findKubeConfig(kubeconfig, process.env, context);
  } catch (e) {
    process.stderr.write(`amime analyze: cannot read the cluster's config: ${(e as Error).message}\n`);
    return null;
  }
  let listed: Awaited<ReturnType<typeof listClusterConfig>>;
  let nodeAgent: boolean | null;
  try {
    listed = await listClusterConfig(conn);
    nodeAgent = await nodeAgentInstalled(conn);
  } catch (e) {
    process.stderr.write(`amime analyze: cannot read the cluster's config: ${apiServerFailure(conn, e, e instanceof KubeApiError)}\n`);
    return null;
  }
  for (const m of listed.missing) process.stderr.write(`amime analyze: the cluster does not serve ${m} (CRD not installed?); not analyzed\n`);
  const out: ParseResult = { resources: [], diagnostics: [] };
  for (const [source, text] of listed.texts) {
    const p = parseDocuments(text, source);
    out.resources.push(...p.resources);
    out.diagnostics.push(...p.diagnostics);
  }
  // TCP Services are captured in injected pods only by amime node-agent (AMM1024).
  if (nodeAgent === false) out.diagnostics.push(...nodeAgentMissing(out.resources));
  if (nodeAgent === null) process.stderr.write("amime analyze: may not list DaemonSets, so whether amime node-agent runs (TCP services in injected pods) is not checked\n");
  return out;
}

/** istioctl's layout: `Error [IST0101] (VirtualService default/reviews x.yaml:12) message`, then a summary. */
export function formatReport(ds: readonly Diagnostic[], resourceCount: number): string {
  const lines = ds.map(formatLine);
  const counted = `${resourceCount} resource${resourceCount === 1 ? "" : "s"}`;
  if (ds.length === 0) return `✔ No validation issues found when analyzing ${counted}.\n`;
  const n = (level: Diagnostic["level"], word: string): string => {
    const c = ds.filter((d) => d.level === level).length;
    return `${c} ${word}${c === 1 || word === "info" ? "" : "s"}`;
  };
  lines.push("", `Analyzed ${counted}: ${n("error", "error")}, ${n("warning", "warning")}, ${n("info", "info")}. See docs/analyze.md for what each code means.`);
  return `${lines.join("\n")}\n`;
}

function formatLine(d: Diagnostic): string {
  const level = d.level === "error" ? "Error" : d.level === "warning" ? "Warning" : "Info";
  const where = d.source.file ? `${d.source.file}${d.source.line ? `:${d.source.line}` : ""}` : "";
  const context = [d.resource, where].filter(Boolean).join(" ");
  return `${level} [${d.code}]${context ? ` (${context})` : ""} ${d.message}`;
}
