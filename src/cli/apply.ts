// `amime apply -f FILE|DIR|-`: send config to the running control plane, like `kubectl apply`.
// Broken files are reported locally (file:line, field path) and nothing is sent; a refusal by the
// control plane prints its diagnostics and changes nothing.
import type { Command } from "./command.ts";
import { parseArgs, UsageError } from "./lib/args.ts";
import { runChange } from "./lib/change.ts";
import { helpRequested, runCommand } from "./lib/run.ts";

export const APPLY_HELP = `Usage: amime apply -f FILE|DIR|- [-f …] [-o json|yaml] [--control-plane URL]

Create or update config in the running control plane, like \`kubectl apply\`. Each file is checked
locally first (as \`amime validate\` does); if any is invalid, every problem is printed with its
file:line and field path and nothing is sent. The control plane checks the whole mesh again and
either takes all of a file or none of it. Prints one line per resource:
  virtualservice.networking.istio.io/reviews configured      (created, configured, unchanged)
A document carrying metadata.resourceVersion (as \`amime get -o yaml\` prints it) is applied only
if the resource still has that version; otherwise the apply is refused as a Conflict, like
kubectl. Without it, the last apply wins.

Options:
  -f, --filename PATH   a YAML/JSON file, a directory (read recursively: *.yaml, *.yml, *.json)
                        or - for stdin; repeatable, sent in order
  -o, --output FORMAT   json or yaml: print the control plane's answers instead of the lines
  --control-plane URL   control plane to talk to (default: $AMIME_CONTROL_PLANE, else
                        .amime/up.json written by \`amime up\` in this directory or a parent)
  --token-file FILE     admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                        beside the state file or in this directory or a parent)
  -h, --help            show this help

Exit status: 0 when everything was applied, 1 when anything was invalid or refused or the control
plane cannot be reached, 2 on usage errors.
`;

export const applyCommand: Command = {
  name: "apply",
  run: (argv) => runCommand("apply", APPLY_HELP, async () => {
    const args = parseArgs(argv, [
      { name: "filename", short: "f", type: "list" },
      { name: "output", short: "o", type: "string", choices: ["json", "yaml"] },
    ]);
    if (helpRequested(args, APPLY_HELP)) return 0;
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}; pass files with -f`);
    return runChange("apply", args);
  }),
};
