// `amime wait`: block until the sidecar is ready, as Istio's `pilot-agent wait`. The injector runs
// it as the sidecar's postStart hook when holdApplicationUntilProxyStarts is on: the kubelet
// starts the app containers only after it returns.
import type { Command } from "./command.ts";
import { readFlags, runParsed, UsageError } from "./lib/args.ts";

export const WAIT_HELP = `Usage: amime wait [--url URL] [--timeout SECONDS] [--period MS]

Poll the sidecar's readiness endpoint until it answers 200 (Istio's \`pilot-agent wait\`; the
injected postStart hook of holdApplicationUntilProxyStarts, docs/kubernetes.md).

Options:
      --url URL         default http://127.0.0.1:15000/ready (the sidecar's admin listener)
      --timeout SECONDS give up after this long (default 60, as pilot-agent)
      --period MS       time between two tries (default 500, as pilot-agent)
  -h, --help            show this help

Exit status: 0 once ready, 1 on timeout, 2 on usage errors.
`;

/** pilot-agent wait's requestTimeoutMillis. */
const REQUEST_TIMEOUT_MS = 500;

interface Args {
  url: string;
  timeoutSeconds: number;
  periodMs: number;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const out: Args = { url: "http://127.0.0.1:15000/ready", timeoutSeconds: 60, periodMs: 500, help: false };
  out.help = readFlags(argv, {
    "--url": (f) => {
      out.url = f.required("a URL");
      if (!URL.canParse(out.url)) throw new UsageError(`--url: "${out.url}" is not a URL`);
    },
    "--timeout": (f) => { out.timeoutSeconds = f.integer(1, 3600, "a number of seconds (1-3600)"); },
    "--period": (f) => { out.periodMs = f.integer(10, 60_000, "a number of milliseconds (10-60000)"); },
  });
  return out;
}

export const waitCommand: Command = {
  name: "wait",
  run: runParsed("wait", WAIT_HELP, parseArgs, async (args) => {
    const deadline = Date.now() + args.timeoutSeconds * 1000;
    let last = "";
    for (;;) {
      try {
        const res = await fetch(args.url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        await res.body?.cancel();
        if (res.status === 200) {
          process.stdout.write(`amime wait: ${args.url} is ready\n`);
          return 0;
        }
        last = `HTTP ${res.status}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, args.periodMs));
    }
    process.stderr.write(`amime wait: ${args.url} not ready after ${args.timeoutSeconds} s (last: ${last})\n`);
    return 1;
  }),
};
