// `amime get KIND [NAME…]`: list the config a running control plane holds, like `kubectl get`.
// Tables with per-kind columns, `-o wide` adds where each resource came from (file:line),
// `-o yaml|json` prints the stored documents, `-o name` kubectl's `kind.group/name`.
// A missing NAME is NotFound (exit 1); an empty list is not an error.
import type { ResourceSummary } from "../model/wire.ts";
import type { Command } from "./command.ts";
import { parseArgs, UsageError, type ParsedArgs } from "./lib/args.ts";
import { formatStructured } from "./lib/output.ts";
import { columnsFor } from "./lib/resource-columns.ts";
import { GET_KINDS, kindNames, lookupKind, lookupKindByName, qualifiedKind, qualifiedPlural, type KindInfo } from "./lib/resource-kinds.ts";
import { CommandError, connect, helpRequested, runCommand } from "./lib/run.ts";
import { formatTable } from "../core/text-table.ts";

export const GET_HELP = `Usage: amime get KIND [NAME…] [-n NS | -A] [-o wide|yaml|json|name] [--control-plane URL]

List the config held by the running control plane, like \`kubectl get\`. KIND is one of:
  virtualservices (vs), destinationrules (dr), gateways (gw), serviceentries (se), sidecars,
  workloadentries (we), peerauthentications (pa), requestauthentications (ra),
  authorizationpolicies (ap), telemetries, envoyfilters, wasmplugins, proxyconfigs (accepted, not
  applied), services (svc), workloads (wl), or all.
Singular names, Kind names and KIND/NAME (\`vs/reviews\`) work too.

Options:
  -n, --namespace NS      namespace to list (default "default")
  -A, --all-namespaces    list every namespace (adds a NAMESPACE column)
  -o, --output FORMAT     wide (adds SOURCE file:line), yaml, json or name
  --control-plane URL     control plane to ask (default: $AMIME_CONTROL_PLANE, else .amime/up.json
                          written by \`amime up\` in this directory or a parent)
  --token-file FILE       admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                          beside the state file or in this directory or a parent)
  -h, --help              show this help

Exit status: 0 on success (also when nothing is found), 1 when a named resource does not exist or
the control plane cannot be reached, 2 on usage errors.
`;

export type GetOutput = "table" | "wide" | "yaml" | "json" | "name";

export interface GetRequest {
  /** undefined = all kinds. */
  kind: KindInfo | undefined;
  names: string[];
  /** undefined = all namespaces. */
  namespace: string | undefined;
  output: GetOutput;
}

export function parseGetArgs(args: ParsedArgs): GetRequest {
  const [first, ...rest] = args.positionals;
  if (first === undefined) throw new UsageError(`which kind? one of: ${kindNames().join(", ")}`);
  let kindWord = first;
  const names = [...rest];
  const slash = first.indexOf("/");
  if (slash > 0) {
    kindWord = first.slice(0, slash);
    names.unshift(first.slice(slash + 1));
  }
  let kind: KindInfo | undefined;
  if (kindWord.toLowerCase() !== "all") {
    kind = lookupKind(kindWord);
    if (kind === undefined) throw new UsageError(`unknown kind ${JSON.stringify(kindWord)}; known kinds: ${kindNames().join(", ")}`);
  } else if (names.length > 0) {
    throw new UsageError("a NAME needs a kind: `amime get vs NAME`, not `amime get all NAME`");
  }
  const all = args.bools.has("all-namespaces");
  const ns = args.strings.get("namespace");
  if (all && ns !== undefined) throw new UsageError("--namespace and --all-namespaces exclude each other");
  const output = (args.strings.get("output") ?? "table") as GetOutput;
  return { kind, names, namespace: all ? undefined : (ns ?? "default"), output };
}

export function formatGet(req: GetRequest, items: readonly ResourceSummary[]): string {
  const sorted = [...items].sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  switch (req.output) {
    case "name":
      return sorted.map((r) => `${qualifiedKind(r.kind)}/${r.name}\n`).join("");
    case "yaml":
    case "json": {
      // One named resource prints as itself; anything else as a kubectl List.
      const single = req.kind !== undefined && req.names.length === 1 && sorted.length === 1;
      const value = single ? sorted[0]?.body : { apiVersion: "v1", kind: "List", items: sorted.map((r) => r.body) };
      return formatStructured(value, req.output);
    }
    default: {
      const kinds = req.kind ? [req.kind.kind] : [...new Set(sorted.map((r) => r.kind))];
      return kinds.map((k) => table(req, k, sorted.filter((r) => r.kind === k))).join("\n");
    }
  }
}

function table(req: GetRequest, kind: string, items: readonly ResourceSummary[]): string {
  const cols = columnsFor(kind);
  const headers = [...(req.namespace === undefined ? ["NAMESPACE"] : []), "NAME", ...cols.headers, ...(req.output === "wide" ? ["SOURCE"] : [])];
  const rows = items.map((r) => {
    const spec = typeof r.body.spec === "object" && r.body.spec !== null ? (r.body.spec as Record<string, unknown>) : {};
    // `amime get all` names rows `kind.group/name` so the sections are told apart, as kubectl does.
    const name = req.kind === undefined ? `${qualifiedKind(r.kind)}/${r.name}` : r.name;
    return [
      ...(req.namespace === undefined ? [r.namespace] : []),
      name,
      ...cols.row(spec),
      ...(req.output === "wide" ? [r.source.file ? `${r.source.file}${r.source.line ? `:${r.source.line}` : ""}` : `<${r.origin || "unknown"}>`] : []),
    ];
  });
  return formatTable(headers, rows);
}

function kindOrder(kind: string): number {
  const i = GET_KINDS.findIndex((k) => k.kind === kind);
  return i < 0 ? GET_KINDS.length : i;
}

export const getCommand: Command = {
  name: "get",
  run: (argv) => runCommand("get", GET_HELP, async () => {
    const args = parseArgs(argv, [
      { name: "namespace", short: "n", type: "string" },
      { name: "all-namespaces", short: "A", type: "bool" },
      { name: "output", short: "o", type: "string", choices: ["wide", "yaml", "json", "name"] },
    ]);
    if (helpRequested(args, GET_HELP)) return 0;
    const req = parseGetArgs(args);
    const client = await connect(args);
    const items: ResourceSummary[] = [];
    const missing: string[] = [];
    if (req.names.length === 0) {
      const list = await client.resources({ kind: req.kind?.kind, namespace: req.namespace });
      // `all` lists the kinds `get` knows; anything else the control plane stores stays out of the table.
      items.push(...list.items.filter((r) => req.kind !== undefined || lookupKindByName(r.kind) !== undefined));
    } else {
      for (const name of req.names) {
        const list = await client.resources({ kind: req.kind?.kind, namespace: req.namespace, name });
        if (list.items.length === 0) missing.push(name);
        items.push(...list.items);
      }
    }
    if (items.length > 0) process.stdout.write(formatGet(req, items));
    else if (req.names.length === 0 && req.output !== "name") {
      if (req.output === "yaml" || req.output === "json") process.stdout.write(formatGet(req, items));
      else process.stderr.write(req.namespace === undefined ? "No resources found\n" : `No resources found in ${req.namespace} namespace.\n`);
    }
    if (missing.length > 0 && req.kind !== undefined) {
      const kind = qualifiedPlural(req.kind);
      throw new CommandError("AMIME_NOT_FOUND", missing.map((n) => `Error from server (NotFound): ${kind} ${JSON.stringify(n)} not found`).join("\n"));
    }
    return 0;
  }),
};
