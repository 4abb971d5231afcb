// `amime proxy-status`: every proxy the control plane knows, whether it is connected and whether
// it runs the latest config (SYNCED), an older one (STALE), refused it (NACK, with the sidecar's
// reason) or has not been sent any (NOT SENT). Like `istioctl proxy-status`.
import type { ProxyStatus } from "../model/wire.ts";
import type { Command } from "./command.ts";
import { parseArgs } from "./lib/args.ts";
import { formatStructured } from "./lib/output.ts";
import { matchProxy } from "./lib/proxy-ref.ts";
import { connectThroughCluster, CONTROL_PLANE_ACCESS_HELP, KUBE_FLAGS, throughCluster } from "./lib/kube-control-plane.ts";
import { CommandError, connect, helpRequested, runCommand } from "./lib/run.ts";
import { formatTable } from "../core/text-table.ts";

export const PROXY_STATUS_HELP = `Usage: amime proxy-status [WORKLOAD…] [-o json|yaml] [--control-plane URL]

Show every sidecar and gateway the control plane knows, like \`istioctl proxy-status\`:
  NAME        node id (sidecar~<instance>.<namespace>)
  WORKLOAD    workload.namespace
  CONNECTED   whether its config stream is open now
  VERSION     the config version it last accepted (ACK)
  STATE       SYNCED (runs the latest), STALE (an older version: push in flight or lost),
              NACK (it refused the latest and keeps its last good config), NOT SENT
  REASON      why it refused (NACK)
WORKLOAD filters by node id, instance name or workload name.
With control-plane replicas sharing etcd (--store), a first line names the replica asked (it
shows only its own proxies) and the elected leader:
  CONTROL PLANE <replica> (leader: <replica>, or "none" while none is elected)

Options:
  -o, --output FORMAT   json or yaml
${CONTROL_PLANE_ACCESS_HELP}

Exit status: 0 on success, 1 when a WORKLOAD matches no proxy or the control plane cannot be
reached, 2 on usage errors.
`;

export function formatProxyStatus(list: readonly ProxyStatus[]): string {
  const sorted = [...list].sort((a, b) => a.node.localeCompare(b.node));
  const rows = sorted.map((p) => [
    p.node,
    `${p.workload}.${p.namespace}`,
    p.connected ? "yes" : "no",
    p.ackedVersion ?? "-",
    p.state,
    p.state === "NACK" ? oneLine(p.error ?? "") || "(no reason given)" : "",
  ]);
  return formatTable(["NAME", "WORKLOAD", "CONNECTED", "VERSION", "STATE", "REASON"], rows);
}

/** The replica asked and the elected leader (only with --store etcd://…). */
export function formatReplicaLine(replica: string, leader: string | null): string {
  return `CONTROL PLANE ${replica} (leader: ${leader === null ? "none" : leader === replica ? "this replica" : leader})`;
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

export const proxyStatusCommand: Command = {
  name: "proxy-status",
  run: (argv) => runCommand("proxy-status", PROXY_STATUS_HELP, async () => {
    const args = parseArgs(argv, [{ name: "output", short: "o", type: "string", choices: ["json", "yaml"] }, ...KUBE_FLAGS]);
    if (helpRequested(args, PROXY_STATUS_HELP)) return 0;
    const client = throughCluster(args) ? await connectThroughCluster(args) : await connect(args);
    let list = await client.proxies();
    if (args.positionals.length > 0) {
      const picked: ProxyStatus[] = [];
      for (const ref of args.positionals) {
        const hit = matchProxy(list, ref);
        if (!hit) throw new CommandError("AMIME_NO_PROXY", `amime proxy-status: no proxy matches ${JSON.stringify(ref)}`);
        // A workload name stands for all its instances here (proxy-config picks the first).
        const all = hit.workload === ref || `${hit.workload}.${hit.namespace}` === ref ? list.filter((p) => p.workload === hit.workload && p.namespace === hit.namespace) : [hit];
        for (const p of all) if (!picked.includes(p)) picked.push(p);
      }
      list = picked;
    }
    const output = args.strings.get("output");
    if (output === "json" || output === "yaml") {
      process.stdout.write(formatStructured(list, output));
      return 0;
    }
    const status = await client.status();
    if (status.replica !== undefined) process.stdout.write(`${formatReplicaLine(status.replica, status.leader ?? null)}\n`);
    if (list.length === 0) process.stderr.write("No proxies registered with the control plane.\n");
    else process.stdout.write(formatProxyStatus(list));
    return 0;
  }),
};
