// `amime dashboard`: open the control plane's dashboard in a browser, signed in — as `istioctl
// dashboard` does. It starts a plain-HTTP forwarder on 127.0.0.1 (src/dashboard/forwarder/) that
// reaches the control plane over TLS verified against the mesh root, so the browser needs no
// certificate import; asks the control plane for a single-use login code (valid 60 s), prints the
// forwarder's URL and opens it with the desktop's opener; the browser trades the code for an
// HttpOnly session cookie, so the admin token never reaches the page. Runs until Ctrl-C.
// See docs/dashboard.md.
import { spawn } from "node:child_process";
import { unwatchFile, watchFile } from "node:fs";
import { readFile } from "node:fs/promises";
import { DashboardForwarder } from "../dashboard/forwarder/forwarder.ts";
import type { Command } from "./command.ts";
import { parseArgs, UsageError } from "./lib/args.ts";
import { ControlPlaneError } from "./lib/control-plane-client.ts";
import { connect, helpRequested, runCommand } from "./lib/run.ts";

export const DASHBOARD_HELP = `Usage: amime dashboard [--port N] [--no-browser] [--control-plane URL] [--token-file FILE]

Open the mesh dashboard (live service graph, golden signals, traces, config) served by the control
plane, signed in, as istioctl dashboard does: listens on http://127.0.0.1:PORT (loopback only) and
forwards to the control plane over https verified against the mesh root (.amime/root-cert.pem), so
the browser shows no certificate warning; prints a login URL there with a single-use code valid
for 60 seconds and opens it in the default browser (xdg-open, open or start). The browser keeps an
HttpOnly, SameSite=Strict session cookie (8 hours); the sign-in page also takes the admin token.
Runs until Ctrl-C (SIGINT) or SIGTERM.

Options:
  --port N              local port to listen on (default: a free one)
  --no-browser          only print the URL
  --control-plane URL   control plane to ask (default: $AMIME_CONTROL_PLANE, else .amime/up.json)
  --token-file FILE     admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                        beside the state file or in this directory or a parent)
  -h, --help            show this help

Exit status: 0 after Ctrl-C/SIGTERM, 1 when the control plane cannot be reached or refuses, or the
port is taken, 2 on usage errors.
`;

/** The desktop's "open this URL" command for a platform. */
export function opener(platform: NodeJS.Platform): { cmd: string; args: string[] } {
  if (platform === "darwin") return { cmd: "open", args: [] };
  if (platform === "win32") return { cmd: "cmd", args: ["/c", "start", ""] };
  return { cmd: "xdg-open", args: [] };
}

export const dashboardCommand: Command = {
  name: "dashboard",
  run: (argv) =>
    runCommand("dashboard", DASHBOARD_HELP, async () => {
      const args = parseArgs(argv, [{ name: "no-browser", type: "bool" }, { name: "port", type: "string" }]);
      if (helpRequested(args, DASHBOARD_HELP)) return 0;
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
      const portFlag = args.strings.get("port");
      const port = portFlag === undefined ? 0 : Number(portFlag);
      if (!/^\d+$/.test(portFlag ?? "0") || port > 65535) throw new UsageError(`--port must be a port number (0-65535), got "${portFlag}"`);
      const client = await connect(args);
      const root = client.rootCert;
      if (root === undefined) {
        throw new ControlPlaneError("CP_UNREACHABLE", "no mesh root found to verify the control plane's certificate with: run in the directory of `amime up` / `amime control-plane` (.amime/root-cert.pem), or set $AMIME_ROOT_CERT");
      }
      // The root file follows a root rotation (`amime ca rotate-root` rewrites it): re-read on change.
      let pem = root.pem;
      const reread = (): void => void readFile(root.from, "utf8").then((p) => void (p.includes("BEGIN CERTIFICATE") && (pem = p)), () => undefined);
      watchFile(root.from, { interval: 2000, persistent: false }, reread);
      let forwarder: DashboardForwarder;
      try {
        forwarder = await DashboardForwarder.start({ target: client.baseUrl, ca: () => pem, port });
      } catch (e) {
        unwatchFile(root.from, reread);
        process.stderr.write(`amime dashboard: cannot listen on 127.0.0.1:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        return 1;
      }
      const stopped = new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      try {
        const login = await client.dashboardLoginCode();
        const url = `${forwarder.url}${login.path}`;
        process.stdout.write(`Dashboard: ${url}\n(single-use link, valid until ${login.expiresAt}; forwarding ${forwarder.url} → ${client.baseUrl}, Ctrl-C to stop)\n`);
        if (!args.bools.has("no-browser")) await openBrowser(url);
        await stopped;
      } finally {
        unwatchFile(root.from, reread);
        await forwarder.close();
      }
      return 0;
    }),
};

async function openBrowser(url: string): Promise<void> {
  const o = opener(process.platform);
  await new Promise<void>((resolve) => {
    const child = spawn(o.cmd, [...o.args, url], { stdio: "ignore", detached: true });
    child.once("error", (e) => {
      process.stderr.write(`amime dashboard: could not start ${o.cmd} (${e.message}); open the URL above yourself\n`);
      resolve();
    });
    child.once("spawn", () => {
      child.unref();
      resolve();
    });
  });
}
