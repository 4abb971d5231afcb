// `amime ratelimit-service --config FILE --store memory|redis://HOST:PORT`: the global rate-limit
// service (src/ratelimit-service/). Refuses to start on a config error (listing every problem
// with file:line); prints one JSON line once both ports listen; SIGINT/SIGTERM → exit 0.
import { readFile } from "node:fs/promises";
import { systemClock } from "../core/clock.ts";
import { loadRateLimitConfig, RateLimitConfigError, type RateLimitConfig } from "../ratelimit-service/config.ts";
import type { StoreFailureMode } from "../ratelimit-service/decide.ts";
import { startRateLimitService, StoreUrlError } from "../ratelimit-service/service.ts";
import type { Command } from "./command.ts";
import { readFlags, runParsed, UsageError } from "./lib/args.ts";
import { untilSignal } from "./lib/signals.ts";

export const RATELIMIT_SERVICE_HELP = `Usage: amime ratelimit-service --config FILE [--config FILE …] --store memory|redis://HOST:PORT
                              [--grpc-port N] [--http-port N] [--host ADDR] [--failure-mode error|allow|deny]

Run the global rate-limit service: Envoy's rate-limit protocol
(envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit over gRPC), configured with the
reference service's (envoyproxy/ratelimit) config.yaml — domain, descriptors, nested
descriptors, rate_limit {unit, requests_per_unit, unlimited, name, replaces}, shadow_mode — from
its own file or from a Kubernetes ConfigMap whose data holds it (Istio's rate-limit task's
ratelimit-config, unchanged). Fixed windows, as the reference service counts them.
Once listening, prints one JSON line on stdout:
  {"ready":true,"grpcPort":8081,"httpPort":8080,"store":"memory","domains":["ratelimit"]}

Options:
      --config FILE       config.yaml, or a YAML file with a ConfigMap (repeatable; one domain per
                          config.yaml)
      --store SPEC        memory: counters in this process (one replica); redis://HOST:PORT:
                          counters in Redis, shared by every replica using it (default memory)
      --grpc-port N       gRPC port (default 8081, as the reference; 0 = any free port)
      --http-port N       HTTP port: GET /healthcheck, POST /json (default 8080; 0 = any)
      --host ADDR         listen address (default 127.0.0.1)
      --failure-mode M    while Redis is unreachable: error (answer with gRPC UNAVAILABLE, as the
                          reference service; the proxy's failure_mode_deny decides), allow (answer
                          OK) or deny (answer OVER_LIMIT). Default error
  -h, --help              show this help

Exit status: 0 after a signal, 1 on a config error or a port that cannot be bound, 2 on usage errors.
`;

interface Args {
  configs: string[];
  store: string;
  grpcPort: number;
  httpPort: number;
  host: string;
  failureMode: StoreFailureMode;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const out: Args = { configs: [], store: "memory", grpcPort: 8081, httpPort: 8080, host: "127.0.0.1", failureMode: "error", help: false };
  out.help = readFlags(argv, {
    "--config": (f) => { out.configs.push(f.required("a config file")); },
    "--store": (f) => { out.store = f.required("memory or redis://HOST:PORT"); },
    "--grpc-port": (f) => { out.grpcPort = f.integer(0, 65535, "a port number (0 = any)"); },
    "--http-port": (f) => { out.httpPort = f.integer(0, 65535, "a port number (0 = any)"); },
    "--host": (f) => { out.host = f.required("an address"); },
    "--failure-mode": (f) => {
      const mode = f.required("error, allow or deny");
      if (mode !== "error" && mode !== "allow" && mode !== "deny") throw new UsageError(`--failure-mode: unknown value ${JSON.stringify(mode)} (use error, allow or deny)`);
      out.failureMode = mode;
    },
  });
  if (!out.help && out.configs.length === 0) throw new UsageError("--config FILE is required");
  return out;
}

export const ratelimitServiceCommand: Command = {
  name: "ratelimit-service",
  run: runParsed("ratelimit-service", RATELIMIT_SERVICE_HELP, parseArgs, async (args) => {
    const log = (l: string): void => void process.stderr.write(`amime ratelimit-service: ${l}\n`);
    let config: RateLimitConfig;
    try {
      const sources = await Promise.all(args.configs.map(async (file) => ({ file, text: await readFile(file, "utf8") })));
      config = loadRateLimitConfig(sources);
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      if (e instanceof RateLimitConfigError) log("config has errors; not starting");
      return 1;
    }
    let service;
    try {
      service = await startRateLimitService({ config, store: args.store, host: args.host, grpcPort: args.grpcPort, httpPort: args.httpPort, failureMode: args.failureMode, clock: systemClock, log });
    } catch (e) {
      log(e instanceof StoreUrlError ? e.message : `cannot start: ${(e as Error).message}`);
      return e instanceof StoreUrlError ? 2 : 1;
    }
    // Listen for the signals before saying ready: a supervisor may signal as soon as it reads the line.
    const stopped = untilSignal();
    process.stdout.write(JSON.stringify({ ready: true, grpcPort: service.grpcPort, httpPort: service.httpPort, store: args.store.startsWith("redis") ? "redis" : "memory", domains: [...config.keys()] }) + "\n");
    await stopped;
    await service.close();
    return 0;
  }),
};
