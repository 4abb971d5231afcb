// `amime delete -f FILE|DIR|-` or `amime delete KIND NAME…`: remove config from the running
// control plane, like `kubectl delete`. Prints `kind.group/name deleted` per resource.
import { KINDS } from "../config/kinds/index.ts";
import type { Command } from "./command.ts";
import { parseArgs, UsageError, type ParsedArgs } from "./lib/args.ts";
import { runChange } from "./lib/change.ts";
import type { ConfigSource } from "./lib/config-sources.ts";
import { kindNames, lookupKind } from "./lib/resource-kinds.ts";
import { helpRequested, runCommand } from "./lib/run.ts";

export const DELETE_HELP = `Usage: amime delete -f FILE|DIR|- [-f …] [--control-plane URL]
       amime delete KIND NAME… [-n NS] [--control-plane URL]

Remove config from the running control plane, like \`kubectl delete\`. With -f, every resource the
files name (by kind, namespace and name) is deleted; the rest of each document is not needed.
KIND takes the names \`amime get\` takes (vs, dr, gw, se, pa, …). Prints one line per resource:
  virtualservice.networking.istio.io/reviews deleted

Options:
  -f, --filename PATH   a YAML/JSON file, a directory (read recursively) or - for stdin; repeatable
  -n, --namespace NS    namespace of KIND NAME (default "default")
  -o, --output FORMAT   json or yaml: print the control plane's answers instead of the lines
  --control-plane URL   control plane to talk to (default: $AMIME_CONTROL_PLANE, else
                        .amime/up.json written by \`amime up\` in this directory or a parent)
  --token-file FILE     admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                        beside the state file or in this directory or a parent)
  -h, --help            show this help

Exit status: 0 when everything was deleted, 1 when anything was unreadable, missing or refused or
the control plane cannot be reached, 2 on usage errors.
`;

/** `amime delete vs reviews ratings` → one document per name, as if read from a file. */
export function deleteDocuments(args: ParsedArgs): ConfigSource | undefined {
  const [kindWord, ...names] = args.positionals;
  if (kindWord === undefined) return undefined;
  if ((args.lists.get("filename") ?? []).length > 0) throw new UsageError("pass either -f FILE or KIND NAME, not both");
  const kind = lookupKind(kindWord);
  if (kind === undefined) throw new UsageError(`unknown kind ${JSON.stringify(kindWord)}; known kinds: ${kindNames().filter((k) => k !== "all").join(", ")}`);
  if (names.length === 0) throw new UsageError(`which ${kind.plural}? pass NAME after the kind`);
  const def = KINDS.find((k) => k.kind === kind.kind && k.group === kind.group);
  const version = def?.versions[def.versions.length - 1] ?? "v1";
  const apiVersion = kind.group ? `${kind.group}/${version}` : version;
  const namespace = args.strings.get("namespace") ?? "default";
  const docs = names.map((name) => JSON.stringify({ apiVersion, kind: kind.kind, metadata: { name, namespace } }));
  return { source: "<command line>", text: `${docs.join("\n---\n")}\n`, resources: names.length };
}

export const deleteCommand: Command = {
  name: "delete",
  run: (argv) => runCommand("delete", DELETE_HELP, async () => {
    const args = parseArgs(argv, [
      { name: "filename", short: "f", type: "list" },
      { name: "namespace", short: "n", type: "string" },
      { name: "output", short: "o", type: "string", choices: ["json", "yaml"] },
    ]);
    if (helpRequested(args, DELETE_HELP)) return 0;
    const inline = deleteDocuments(args);
    if (inline === undefined && args.strings.has("namespace")) throw new UsageError("--namespace applies to KIND NAME; files carry their own namespaces");
    return runChange("delete", args, inline);
  }),
};
