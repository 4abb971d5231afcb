// HAProxy: a second reference proxy (one thread, connection reuse to the upstream).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, pinned, stopProcess, waitForPort } from "../lib/spawn.ts";
import type { RunningTarget, StartContext, TargetFactory } from "./target.ts";

const HAPROXY = "/usr/sbin/haproxy";

export const haproxyTarget: TargetFactory = {
  name: "haproxy",
  unavailable: () => (existsSync(HAPROXY) ? null : "haproxy not installed (apt-get install haproxy)"),
  async start(ctx: StartContext): Promise<RunningTarget> {
    const dir = join(ctx.workDir, "haproxy");
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    writeFileSync(
      join(dir, "haproxy.cfg"),
      `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  http-request set-header X-Request-Id %[uuid()]
  default_backend be
backend be
  server up 127.0.0.1:${ctx.upstreamPort}
`,
    );
    const child = pinned(ctx.cpu, HAPROXY, ["-f", join(dir, "haproxy.cfg"), "-db"]);
    await waitForPort(port);
    const pid = child.pid ?? 0;
    return { name: "haproxy", port, authority: "bench", pids: () => [pid], stop: () => stopProcess(child, "SIGUSR1") };
  },
};
