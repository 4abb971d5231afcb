// nginx: the reference reverse proxy (one worker, keep-alive upstream pool, no access log).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { childPids } from "../lib/proc.ts";
import { freePort, pinned, stopProcess, waitForPort } from "../lib/spawn.ts";
import type { RunningTarget, StartContext, TargetFactory } from "./target.ts";

const NGINX = "/usr/sbin/nginx";

export function nginxConfig(prefix: string, port: number, body: string, upstreamBlock: string, listenExtra = ""): string {
  mkdirSync(join(prefix, "logs"), { recursive: true });
  return `worker_processes 1;
error_log ${prefix}/logs/error.log crit;
pid ${prefix}/nginx.pid;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:${port} reuseport${listenExtra};
    ${body}
  }
  ${upstreamBlock}
}
`;
}

/** Start an nginx with the given server body; returns the master process and the port. */
export async function startNginx(ctx: StartContext, name: string, serverBody: string, upstreamBlock = "", listenExtra = "") {
  const prefix = join(ctx.workDir, name);
  mkdirSync(prefix, { recursive: true });
  const port = await freePort();
  const conf = nginxConfig(prefix, port, serverBody, upstreamBlock, listenExtra);
  writeFileSync(join(prefix, "nginx.conf"), conf);
  const child = pinned(ctx.cpu, NGINX, ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-g", "daemon off;"]);
  await waitForPort(port);
  return { child, port };
}

export const nginxTarget: TargetFactory = {
  name: "nginx",
  unavailable: () => (existsSync(NGINX) ? null : "nginx not installed (apt-get install nginx-light)"),
  async start(ctx: StartContext): Promise<RunningTarget> {
    const { child, port } = await startNginx(
      ctx,
      "nginx-proxy",
      `location / { proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Request-Id $request_id; }`,
      `upstream bench_upstream { server 127.0.0.1:${ctx.upstreamPort}; keepalive 64; }`,
    );
    const pid = child.pid ?? 0;
    return { name: "nginx", port, authority: "bench", pids: () => [pid, ...childPids(pid)], stop: () => stopProcess(child, "SIGQUIT") };
  },
};
