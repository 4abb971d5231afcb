// `amime control-plane -f DIR [-f …] [--port N]`: run the control plane alone. Loads and validates
// the config (refuses to start on errors, listing them), prints one JSON line with its URL once it
// listens, watches the files, logs refused changes and NACKs on stderr; SIGINT/SIGTERM → exit 0.
import { formatDiagnostic } from "../config/diagnostic.ts";
import { ConfigRefusedError, ControlPlane, DEFAULT_CONTROL_PLANE_PORT } from "../control-plane/server.ts";
import type { Command } from "./command.ts";

export const CONTROL_PLANE_HELP = `Usage: amime control-plane -f PATH [-f PATH …] [--port N] [--host ADDR]

Run the control plane: load Istio config from files and directories (watched: edits are
validated and pushed live; an edit with errors is refused and the last good config stays),
accept instance registrations, apply/delete and status requests, and push each proxy its
config (amime proxy --xds URL --node ID). Protocol in docs/control-plane.md.
Once listening, prints one JSON line on stdout:
  {"ready":true,"url":"http://127.0.0.1:15010","port":15010,"version":"v1"}

Options:
  -f, --filename PATH   config file or directory (repeatable; may be omitted to start empty)
      --port N          listen port (default ${DEFAULT_CONTROL_PLANE_PORT}; 0 = any free port)
      --host ADDR       listen address (default 127.0.0.1)
      --no-watch        do not watch the files
  -h, --help            show this help

Exit status: 0 after a signal, 1 on invalid config or a port that cannot be bound, 2 on usage errors.
`;

interface Args {
  paths: string[];
  port: number;
  host: string;
  watch: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args | string {
  const out: Args = { paths: [], port: DEFAULT_CONTROL_PLANE_PORT, host: "127.0.0.1", watch: true, help: false };
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
      case "-f":
      case "--filename": {
        const v = value();
        if (v === undefined || v === "") return `${flag} needs a path`;
        out.paths.push(v);
        break;
      }
      case "--port": {
        const v = Number(value());
        if (!Number.isInteger(v) || v < 0 || v > 65535) return "--port needs a port number (0 = any)";
        out.port = v;
        break;
      }
      case "--host": {
        const v = value();
        if (v === undefined || v === "") return "--host needs an address";
        out.host = v;
        break;
      }
      case "--no-watch":
        out.watch = false;
        break;
      default:
        return `unknown option "${arg}"`;
    }
  }
  return out;
}

export const controlPlaneCommand: Command = {
  name: "control-plane",
  summary: "run the control plane (config store, registry, push to proxies)",
  async run(argv) {
    const args = parseArgs(argv);
    if (typeof args === "string") {
      process.stderr.write(`amime control-plane: ${args}\n\n${CONTROL_PLANE_HELP}`);
      return 2;
    }
    if (args.help) {
      process.stdout.write(CONTROL_PLANE_HELP);
      return 0;
    }
    let cp: ControlPlane;
    try {
      cp = await ControlPlane.start({
        port: args.port,
        host: args.host,
        configPaths: args.paths,
        watch: args.watch,
        log: (l) => process.stderr.write(`amime control-plane: ${l}\n`),
      });
    } catch (e) {
      if (e instanceof ConfigRefusedError) {
        for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
        process.stderr.write("amime control-plane: config has errors; not starting\n");
      } else {
        process.stderr.write(`amime control-plane: ${(e as Error).message}\n`);
      }
      return 1;
    }
    process.stdout.write(JSON.stringify({ ready: true, url: cp.url, port: cp.port, version: cp.version }) + "\n");
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await cp.close();
    return 0;
  },
};
