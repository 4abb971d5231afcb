// `amime ca revoke|unrevoke|list`: the mesh CA's deny list. A revoked identity gets no new
// certificate until un-revoked; the list (serials and identities) is pushed to every proxy.
// See docs/security.md.
import type { Revocation } from "../model/wire.ts";
import type { Command } from "./command.ts";
import { parseArgs, UsageError } from "./lib/args.ts";
import { formatStructured } from "./lib/output.ts";
import { connect, helpRequested, runCommand } from "./lib/run.ts";
import { formatTable } from "../core/text-table.ts";

export const CA_HELP = `Usage: amime ca revoke   (--serial HEX | --identity SPIFFE_ID)
       amime ca unrevoke (--serial HEX | --identity SPIFFE_ID)
       amime ca list [-o json|yaml]
       amime ca rotate-root

The mesh CA's deny list (docs/security.md):
  revoke     deny a certificate by serial (as \`amime proxy-config secret\` or openssl shows it),
             or an identity (spiffe://<trust domain>/ns/<ns>/sa/<sa>): a revoked identity gets no
             new certificate until it is un-revoked. The list is pushed to every proxy; a sidecar
             whose own certificate is listed gets a new one at once, and mutual TLS refuses a
             listed peer, client or server.
  unrevoke   remove an entry
  list       SERIAL/IDENTITY, BY, AT
  rotate-root  replace the self-signed root: a new root joins every proxy's trust bundle, every
             workload and the control plane get certificates under it, the old root leaves the
             bundle; no handshake fails on the way. Returns when done (self-signed CA only).

Options:
      --serial HEX        certificate serial number (hex; colons allowed)
      --identity ID       SPIFFE ID
  -o, --output FORMAT     json or yaml (list)
  --control-plane URL     control plane to talk to (default: $AMIME_CONTROL_PLANE, else
                          .amime/up.json written by \`amime up\` in this directory or a parent)
  --token-file FILE       admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                          beside the state file or in this directory or a parent)
  -h, --help              show this help

Exit status: 0 on success (also when the entry was already so), 1 when the control plane refuses
or cannot be reached, 2 on usage errors.
`;

export function formatRevocations(list: readonly Revocation[]): string {
  if (list.length === 0) return "No revocations.\n";
  return formatTable(["REVOKED", "BY", "AT"], list.map((r) => [r.serial !== undefined ? `serial ${r.serial}` : `identity ${r.identity ?? ""}`, r.by, r.at]));
}

export const caCommand: Command = {
  name: "ca",
  run: (argv) => runCommand("ca", CA_HELP, async () => {
    const args = parseArgs(argv, [
      { name: "serial", type: "string" },
      { name: "identity", type: "string" },
      { name: "output", short: "o", type: "string", choices: ["json", "yaml"] },
    ]);
    if (helpRequested(args, CA_HELP)) return 0;
    const [verb, ...extra] = args.positionals;
    if (verb === undefined) throw new UsageError("needs revoke, unrevoke, list or rotate-root");
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (verb === "rotate-root") {
      const r = await (await connect(args)).rotateRoot();
      process.stdout.write(`root rotated: ${r.oldRoot.slice(0, 16)}… → ${r.newRoot.slice(0, 16)}…, ${r.reissued.length} proxies reissued\n`);
      return 0;
    }
    if (verb === "list") {
      const list = await (await connect(args)).revocations();
      const output = args.strings.get("output");
      process.stdout.write(output === "json" || output === "yaml" ? formatStructured(list, output) : formatRevocations(list));
      return 0;
    }
    if (verb !== "revoke" && verb !== "unrevoke") throw new UsageError(`unknown subcommand ${JSON.stringify(verb)} (use revoke, unrevoke, list or rotate-root)`);
    const serial = args.strings.get("serial");
    const identity = args.strings.get("identity");
    if ((serial === undefined) === (identity === undefined)) throw new UsageError(`${verb} needs exactly one of --serial and --identity`);
    const target = serial !== undefined ? { serial } : { identity: identity as string };
    const r = await (await connect(args)).revocation(verb === "revoke" ? "POST" : "DELETE", target);
    const what = serial !== undefined ? `serial ${serial}` : `identity ${identity}`;
    process.stdout.write(`${what} ${verb === "revoke" ? (r.changed ? "revoked" : "already revoked") : r.changed ? "un-revoked" : "was not revoked"}\n`);
    return 0;
  }),
};
