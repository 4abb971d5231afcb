// `amime dashboard`: open the control plane's dashboard in a browser, signed in — as `istioctl
// dashboard` does. It asks the control plane for a single-use login code (valid 60 s), prints the
// URL and opens it with the desktop's opener; the browser trades the code for an HttpOnly
// session cookie, so the admin token never reaches the page. See docs/dashboard.md.
import { spawn } from "node:child_process";
import type { Command } from "./command.ts";
import { parseArgs, UsageError } from "./lib/args.ts";
import { connect, helpRequested, runCommand } from "./lib/run.ts";

export const DASHBOARD_HELP = `Usage: amime dashboard [--no-browser] [--control-plane URL] [--token-file FILE]

Open the mesh dashboard (live service graph, golden signals, traces, config) served by the control
plane, signed in: prints a login URL with a single-use code valid for 60 seconds and opens it in
the default browser (xdg-open, open or start). The browser keeps a Secure, HttpOnly, SameSite=Strict
session cookie (8 hours); the dashboard's sign-in page also takes the admin token itself.
The control plane serves https with a certificate from the mesh CA: import .amime/root-cert.pem
into the browser's trust store once, or it warns (docs/dashboard.md).

Options:
  --no-browser          only print the URL
  --control-plane URL   control plane to ask (default: $AMIME_CONTROL_PLANE, else .amime/up.json)
  --token-file FILE     admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                        beside the state file or in this directory or a parent)
  -h, --help            show this help

Exit status: 0 when the URL was printed, 1 when the control plane cannot be reached or refuses,
2 on usage errors.
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
      const args = parseArgs(argv, [{ name: "no-browser", type: "bool" }]);
      if (helpRequested(args, DASHBOARD_HELP)) return 0;
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
      const client = await connect(args);
      const login = await client.dashboardLoginCode();
      const url = `${client.baseUrl}${login.path}`;
      process.stdout.write(`Dashboard: ${url}\n(single-use link, valid until ${login.expiresAt})\n`);
      if (args.bools.has("no-browser")) return 0;
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
      return 0;
    }),
};
