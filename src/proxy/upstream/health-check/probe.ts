// Probes: one health check against one host, over real sockets. The checker owns the timeout
// (on its Clock) and aborts a probe that runs past it; a probe only reports what it saw.
import { net } from "../../../core/builtins.ts";
import type { Socket } from "node:net";
import type { HealthCheckConfig } from "../../../model/proxy-config.ts";
import type { HealthOutcome } from "./host-health.ts";

const { connect } = net;

export interface ProbeTarget {
  address: string;
  port: number;
  /** Host header for HTTP checks. */
  authority: string;
}

/** Runs one check; `done` is called at most once; the returned function aborts the probe. */
export type Probe = (target: ProbeTarget, config: HealthCheckConfig, done: (outcome: HealthOutcome, detail: string) => void) => () => void;

const MAX_HEAD = 8 * 1024;

/** TCP: healthy when the connection is established (Envoy's TCP health check with no payload). */
export const tcpProbe: Probe = (target, _config, done) => {
  const s = connect({ host: target.address, port: target.port });
  let over = false;
  const finish = (o: HealthOutcome, detail: string): void => {
    if (over) return;
    over = true;
    s.destroy();
    done(o, detail);
  };
  s.on("connect", () => finish("success", "connected"));
  s.on("error", (e) => finish("network-failure", (e as NodeJS.ErrnoException).code ?? e.message));
  s.on("close", () => finish("network-failure", "closed"));
  return () => {
    over = true;
    s.destroy();
  };
};

/**
 * HTTP/1.1 GET `path` on a fresh connection (Connection: close); the status line decides:
 * expected → success, anything else → active failure; no status line → network failure.
 */
export const httpProbe: Probe = (target, config, done) => {
  const s: Socket = connect({ host: target.address, port: target.port, noDelay: true });
  let over = false;
  let head = "";
  const finish = (o: HealthOutcome, detail: string): void => {
    if (over) return;
    over = true;
    s.destroy();
    done(o, detail);
  };
  s.setEncoding("latin1");
  s.on("connect", () => {
    s.write(`GET ${config.path ?? "/"} HTTP/1.1\r\nhost: ${target.authority}\r\nuser-agent: amime-health-check\r\nconnection: close\r\n\r\n`);
  });
  s.on("data", (chunk: string) => {
    head += chunk;
    const eol = head.indexOf("\r\n");
    if (eol < 0) {
      if (head.length > MAX_HEAD) finish("network-failure", "no status line");
      return;
    }
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head.slice(0, eol));
    if (m === null) return finish("network-failure", "not HTTP/1.x");
    const status = Number(m[1]);
    const ok = (config.expectedStatuses ?? [[200, 299]]).some(([lo, hi]) => status >= lo && status <= hi);
    finish(ok ? "success" : "active-failure", `HTTP ${status}`);
  });
  s.on("error", (e) => finish("network-failure", (e as NodeJS.ErrnoException).code ?? e.message));
  s.on("close", () => finish("network-failure", "closed before a status line"));
  return () => {
    over = true;
    s.destroy();
  };
};

export function probeFor(config: HealthCheckConfig): Probe {
  return config.kind === "http" ? httpProbe : tcpProbe;
}
