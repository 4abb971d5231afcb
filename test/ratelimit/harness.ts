// Harness for the rate-limit service tests: `amime ratelimit-service` and Debian's redis-server as
// real processes, and a real @grpc/grpc-js client of Envoy's rate-limit protocol.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadRlsPackage } from "../../src/ratelimit-service/grpc-server.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const NODE = join(ROOT, "node_modules", ".bin", "node");
const BIN = join(ROOT, "bin", "amime.js");

/**
 * Counters live in fixed windows aligned to UTC (a minute, a day: the reference service's keys end
 * in the window's start), so a burst that straddles a window's end counts in two: wait, when less
 * than `burstMs` is left of the current window, until the next one begins.
 */
export async function awayFromWindowEnd(windowMs: number, burstMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left > burstMs) return;
  await new Promise((r) => setTimeout(r, left + 50));
}

/** Resolves with the first stdout line matching `ready`, rejects if the process exits first. */
function readyLine(child: ChildProcess, ready: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      const line = out.split("\n").find((l) => ready.test(l));
      if (line !== undefined) resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${out}${err}`)));
  });
}

export class RedisServer {
  readonly port: number;
  private child: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
  }

  async start(): Promise<void> {
    this.child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(this.port), "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
    await readyLine(this.child, /Ready to accept connections/, "redis-server");
  }

  /** SIGKILL, as a crash: no goodbye to the clients. */
  async kill(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    c.kill("SIGKILL");
    await once(c, "exit");
  }

  async cli(...args: string[]): Promise<string> {
    const c = spawn("redis-cli", ["-p", String(this.port), ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    c.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    await once(c, "exit");
    return out.trim();
  }
}

export interface ServiceProcess {
  child: ChildProcess;
  grpcPort: number;
  httpPort: number;
  stderr(): string;
  stop(): Promise<number | null>;
}

export async function startService(args: readonly string[]): Promise<ServiceProcess> {
  const child = spawn(NODE, [BIN, "ratelimit-service", "--grpc-port", "0", "--http-port", "0", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const line = await readyLine(child, /"ready":true/, "amime ratelimit-service");
  const ready = JSON.parse(line) as { grpcPort: number; httpPort: number };
  return {
    child,
    grpcPort: ready.grpcPort,
    httpPort: ready.httpPort,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      return code;
    },
  };
}

export interface WireStatus {
  code: string;
  current_limit: { name: string; requests_per_unit: number; unit: string } | null;
  limit_remaining: number;
  duration_until_reset: { seconds: number; nanos: number } | null;
}

export interface WireResponse {
  overall_code: string;
  statuses: WireStatus[];
}

type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: WireResponse) => void) => void;

/** A client of envoy.service.ratelimit.v3.RateLimitService, as Envoy's ratelimit filter calls it. */
export class RlsClient {
  private readonly client: grpc.Client & { ShouldRateLimit: Unary };

  /** `port` on 127.0.0.1, or a `host:port` target. */
  constructor(target: number | string) {
    const pkg = loadRlsPackage();
    const Service = ((((pkg.envoy as grpc.GrpcObject).service as grpc.GrpcObject).ratelimit as grpc.GrpcObject).v3 as grpc.GrpcObject).RateLimitService as grpc.ServiceClientConstructor;
    this.client = new Service(typeof target === "number" ? `127.0.0.1:${target}` : target, grpc.credentials.createInsecure()) as unknown as grpc.Client & { ShouldRateLimit: Unary };
  }

  shouldRateLimit(domain: string, descriptors: Record<string, string>[]): Promise<WireResponse> {
    const req = { domain, descriptors: descriptors.map((d) => ({ entries: Object.entries(d).map(([key, value]) => ({ key, value })) })) };
    return new Promise((resolve, reject) => this.client.ShouldRateLimit(req, (err, res) => (err ? reject(err) : resolve(res))));
  }

  close(): void {
    this.client.close();
  }
}
