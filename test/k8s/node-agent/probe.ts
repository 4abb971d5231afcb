// One probe of a container, as the kubelet runs it: httpGet (from the node, which is the host
// here, to the pod's IP; 200-399 is success; HTTPS is not verified, as the kubelet does not),
// tcpSocket (a connection that opens), exec (a command in the container that exits 0). Every
// periodSeconds after initialDelaySeconds; successThreshold passes in a row make it succeed and
// failureThreshold failures in a row make it fail; `onChange` is told each flip.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { Probe } from "./pod-types.ts";

export type ExecRunner = (argv: readonly string[], timeoutMs: number) => Promise<boolean>;

export class Prober {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private passes = 0;
  private fails = 0;
  /** null until the first result flips it. */
  result: boolean | null = null;
  private readonly probe: Probe;
  private readonly ip: string;
  private readonly ports: ReadonlyMap<string, number>;
  private readonly exec: ExecRunner;
  private readonly onChange: (ok: boolean) => void;

  constructor(probe: Probe, ip: string, ports: ReadonlyMap<string, number>, exec: ExecRunner, onChange: (ok: boolean) => void) {
    this.probe = probe;
    this.ip = ip;
    this.ports = ports;
    this.exec = exec;
    this.onChange = onChange;
  }

  start(): void {
    this.schedule((this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  /** Run now instead of at the next period (the kubelet does so for readiness once a container has started). */
  now(): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.once().then((ok) => {
        if (this.stopped) return;
        this.record(ok);
        this.schedule((this.probe.periodSeconds ?? 10) * 1000);
      });
    }, ms);
    this.timer.unref();
  }

  private record(ok: boolean): void {
    if (ok) {
      this.fails = 0;
      this.passes++;
      if (this.result !== true && this.passes >= (this.probe.successThreshold ?? 1)) this.flip(true);
    } else {
      this.passes = 0;
      this.fails++;
      if (this.result !== false && this.fails >= (this.probe.failureThreshold ?? 3)) this.flip(false);
    }
  }

  private flip(ok: boolean): void {
    this.result = ok;
    this.onChange(ok);
  }

  private port(p: number | string): number {
    return typeof p === "number" ? p : (this.ports.get(p) ?? Number(p));
  }

  private once(): Promise<boolean> {
    const timeoutMs = (this.probe.timeoutSeconds ?? 1) * 1000;
    const { httpGet, tcpSocket, exec } = this.probe;
    if (httpGet !== undefined) {
      const send = httpGet.scheme === "HTTPS" ? httpsRequest : httpRequest;
      return new Promise((resolve) => {
        const headers = Object.fromEntries((httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
        const req = send({ host: httpGet.host ?? this.ip, port: this.port(httpGet.port), path: httpGet.path ?? "/", headers: { "user-agent": "kube-probe/1.37", ...headers }, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve(false));
        req.end();
      });
    }
    if (tcpSocket !== undefined) {
      return new Promise((resolve) => {
        const s = connect({ host: tcpSocket.host ?? this.ip, port: this.port(tcpSocket.port), timeout: timeoutMs });
        s.once("connect", () => {
          s.destroy();
          resolve(true);
        });
        s.once("timeout", () => s.destroy(new Error("timeout")));
        s.once("error", () => resolve(false));
      });
    }
    if (exec !== undefined) return this.exec(exec.command, timeoutMs);
    return Promise.resolve(false);
  }
}
