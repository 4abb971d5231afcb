// `amime proxy --config FILE`: run the sidecar proxy alone from a ProxyConfig file (JSON or YAML).
// Prints one JSON line once every listener is bound (tests and the bench read it); SIGINT or
// SIGTERM drain connections and exit 0; an invalid config file exits 1 with the reasons.
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { Sidecar } from "../proxy/sidecar.ts";
import type { Command } from "./command.ts";

export const PROXY_HELP = `Usage: amime proxy --config FILE [--admin-port N]

Run the sidecar proxy from a ProxyConfig file (JSON or YAML; format in docs/proxy.md).
Once every listener is bound, prints one JSON line on stdout:
  {"ready":true,"version":"…","listeners":{"<listener name>":<port>,…},"admin":<port>}
SIGINT / SIGTERM drain open connections (up to 5 s) and exit 0.

Options:
  -c, --config FILE     the ProxyConfig to run (required)
      --admin-port N    admin listener on 127.0.0.1:N (default 15000; 0 = any free port;
                        -1 = no admin listener)
  -h, --help            show this help

Exit status: 0 after a signal, 1 on an invalid config or a port that cannot be bound,
2 on usage errors.
`;

interface ProxyArgs {
  config?: string;
  adminPort: number;
  help: boolean;
}

function parseArgs(argv: readonly string[]): ProxyArgs | string {
  const out: ProxyArgs = { adminPort: 15000, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case "-h":
      case "--help":
        out.help = true;
        break;
      case "-c":
      case "--config": {
        const v = value();
        if (v === undefined) return `${flag} needs a file`;
        out.config = v;
        break;
      }
      case "--admin-port": {
        const v = Number(value());
        if (!Number.isInteger(v) || v < -1 || v > 65535) return "--admin-port needs a port number (0 = any, -1 = none)";
        out.adminPort = v;
        break;
      }
      default:
        return `unknown option "${arg}"`;
    }
  }
  return out;
}

export async function loadProxyConfigFile(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8");
  const trimmed = text.trimStart();
  if (file.endsWith(".json") || trimmed.startsWith("{")) return JSON.parse(text);
  return parseYaml(text);
}

export const proxyCommand: Command = {
  name: "proxy",
  summary: "run the sidecar proxy from a ProxyConfig file",
  async run(argv) {
    const args = parseArgs(argv);
    if (typeof args === "string") {
      process.stderr.write(`amime proxy: ${args}\n\n${PROXY_HELP}`);
      return 2;
    }
    if (args.help) {
      process.stdout.write(PROXY_HELP);
      return 0;
    }
    if (args.config === undefined) {
      process.stderr.write(`amime proxy: --config FILE is required\n\n${PROXY_HELP}`);
      return 2;
    }
    let raw: unknown;
    try {
      raw = await loadProxyConfigFile(args.config);
    } catch (e) {
      process.stderr.write(`amime proxy: cannot read ${args.config}: ${(e as Error).message}\n`);
      return 1;
    }
    let sidecar: Sidecar;
    try {
      sidecar = await Sidecar.start(raw, args.adminPort >= 0 ? { adminPort: args.adminPort } : {});
    } catch (e) {
      process.stderr.write(`amime proxy: ${args.config}: ${(e as Error).message}\n`);
      return 1;
    }
    const line = { ready: true, version: sidecar.config.version, listeners: sidecar.ports(), admin: sidecar.adminPort ?? null };
    process.stdout.write(JSON.stringify(line) + "\n");
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await sidecar.close(5000);
    // Whatever still holds the event loop (a mirror's timer, a half-closed upstream socket) must
    // not keep a stopped proxy alive.
    setTimeout(() => process.exit(0), 200).unref();
    return 0;
  },
};
