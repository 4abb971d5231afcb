// `amime top`: the golden signals of every service version, live — requests per second, error
// rate and p50/p90/p99 latency — from the control plane's metrics store (which scrapes every
// sidecar's /stats/prometheus). Redraws every 2 s until Ctrl-C; `--once` prints one table.
import type { ServiceRow } from "../control-plane/telemetry/graph.ts";
import type { Command } from "./command.ts";
import { parseArgs, UsageError } from "./lib/args.ts";
import type { ControlPlaneClient } from "./lib/control-plane-client.ts";
import { connect, helpRequested, runCommand } from "./lib/run.ts";
import { formatTable } from "../core/text-table.ts";

export const TOP_HELP = `Usage: amime top [--window 60s] [--interval 2s] [--once] [-n NAMESPACE] [--control-plane URL]

Golden signals per service version, from the control plane's scrapes of every sidecar:
  SERVICE     destination service (host)
  VERSION     version label of the serving workload
  WORKLOAD    serving workload
  RPS         requests per second over the window
  ERRORS      share of 5xx (and reset) responses
  P50 P90 P99 latency in ms (from istio_request_duration_milliseconds buckets)
The view refreshes every --interval until Ctrl-C. Needs sidecars registered as scrape targets
(\`amime up\` does it); see docs/observability.md.

Options:
  --window DURATION     rate window, e.g. 30s, 5m (default 60s)
  --interval DURATION   refresh period (default 2s)
  --once                print one table and exit (scripts, tests)
  -n, --namespace NS    only services of this namespace
  --control-plane URL   control plane to ask (default: $AMIME_CONTROL_PLANE, else .amime/up.json)
  --token-file FILE     admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                        beside the state file or in this directory or a parent)
  -h, --help            show this help

Exit status: 0 on success, 1 when the control plane cannot be reached, 2 on usage errors.
`;

function ms(v: number | null): string {
  return v === null ? "-" : v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export function formatTop(rows: readonly ServiceRow[]): string {
  if (rows.length === 0) return "No traffic in the window (are sidecars registered as scrape targets?)\n";
  return formatTable(
    ["SERVICE", "VERSION", "WORKLOAD", "RPS", "ERRORS", "P50", "P90", "P99"],
    rows.map((r) => [r.service, r.version, r.workload, r.rps.toFixed(2), `${(r.errorRate * 100).toFixed(1)}%`, ms(r.p50), ms(r.p90), ms(r.p99)]),
  );
}

function duration(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v);
  if (m === null) throw new UsageError(`${flag} needs a duration like 2s or 500ms`);
  const n = Number(m[1]) * (m[2] === "m" ? 60_000 : m[2] === "ms" ? 1 : 1000);
  if (n <= 0) throw new UsageError(`${flag} must be positive`);
  return n;
}

async function fetchRows(client: ControlPlaneClient, windowMs: number, namespace: string | undefined): Promise<ServiceRow[]> {
  const body = (await client.telemetryServices(windowMs)) as { services?: ServiceRow[] } | undefined;
  const rows = Array.isArray(body?.services) ? body.services : [];
  return namespace === undefined ? rows : rows.filter((r) => r.namespace === namespace);
}

export const topCommand: Command = {
  name: "top",
  run: (argv) =>
    runCommand("top", TOP_HELP, async () => {
      const args = parseArgs(argv, [
        { name: "window", type: "string" },
        { name: "interval", type: "string" },
        { name: "once", type: "bool" },
        { name: "namespace", short: "n", type: "string" },
      ]);
      if (helpRequested(args, TOP_HELP)) return 0;
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
      const windowMs = duration(args.strings.get("window"), "--window", 60_000);
      const intervalMs = duration(args.strings.get("interval"), "--interval", 2000);
      const client = await connect(args);
      const ns = args.strings.get("namespace");
      if (args.bools.has("once")) {
        process.stdout.write(formatTop(await fetchRows(client, windowMs, ns)));
        return 0;
      }
      let stop = false;
      let wake: (() => void) | null = null;
      const onSignal = (): void => {
        stop = true;
        wake?.();
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        while (!stop) {
          const table = formatTop(await fetchRows(client, windowMs, ns));
          // Clear the screen and home the cursor, then redraw (like top).
          process.stdout.write(`\u001b[2J\u001b[H${new Date().toISOString()}  window ${windowMs / 1000}s  (Ctrl-C to quit)\n\n${table}`);
          await new Promise<void>((r) => {
            const t = setTimeout(r, intervalMs);
            wake = () => {
              clearTimeout(t);
              r();
            };
          });
          wake = null;
        }
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
      return 0;
    }),
};
