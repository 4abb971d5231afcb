// Check: the global `ratelimit` filter an EnvoyFilter inserts calls a cluster the mesh has
// (AMM1018). Istio's task names `outbound|8081||ratelimit.default.svc.cluster.local`; without a
// Service (or ServiceEntry) of that host and port no proxy has the cluster, every call fails, and
// each rate-limited request is refused with 500 (failure_mode_deny, as the task sets) or let
// through unlimited — silently but for the counters. Istio's analyzer does not look; Amime says so.
// The same for a RateLimit (amime.dev) with global rules: its `rateLimitService` (default
// samples/ratelimit's ratelimit.default.svc.<domain>:8081) must be a Service of the mesh.
import { envoyFilterRateLimits } from "../envoy-filter/rate-limits.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";

const OUTBOUND = /^outbound\|(\d+)\|[^|]*\|(.+)$/;

export const rateLimitServiceCheck: Check = {
  name: "ratelimit-service",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    for (const ef of ctx.ofKind("EnvoyFilter")) {
      const spec = ef.body.spec as { configPatches?: unknown } | undefined;
      const patches = Array.isArray(spec?.configPatches) ? spec.configPatches : [];
      patches.forEach((p, i) => {
        for (const patch of envoyFilterRateLimits({ configPatches: [p] }).patches) {
          if (patch.applyTo !== "HTTP_FILTER" || patch.filter.name !== "ratelimit") continue;
          const cluster = patch.filter.config.cluster;
          const m = OUTBOUND.exec(cluster);
          const port = Number(m?.[1]);
          const host = m?.[2] ?? "";
          const found = m !== null && index.findServices(host, index.namespaceOf(ef)).some((s) => s.ports.length === 0 || s.ports.some((x) => x.number === port));
          if (found) continue;
          const outcome = patch.filter.config.failureModeDeny ? "answered 500 (flag RLSE, failure_mode_deny)" : "let through unlimited (counted ratelimit.error)";
          const what = m === null ? `${JSON.stringify(cluster)} is not an outbound cluster name (outbound|<port>||<host>)` : `no Service or ServiceEntry defines ${host} port ${port}`;
          ctx.report(ef, "warning", AnalyzerCodes.rateLimitServiceNotFound, ["spec", "configPatches", i, "patch", "value"],
            `the ratelimit filter calls cluster ${cluster}, but ${what}: every rate-limited request would be ${outcome}. Load the rate-limit service (samples/ratelimit), or fix the cluster name.`);
        }
      });
    }
    for (const rl of ctx.ofKind("RateLimit", "amime.dev")) {
      const spec = (rl.body.spec ?? {}) as { rules?: { scope?: unknown }[]; rateLimitService?: { host?: unknown; port?: unknown }; failureMode?: unknown };
      const firstGlobal = (Array.isArray(spec.rules) ? spec.rules : []).findIndex((r) => r?.scope === "global");
      if (firstGlobal < 0) continue;
      const given = spec.rateLimitService;
      const host = typeof given?.host === "string" ? given.host : `ratelimit.default.svc.${index.options.domainSuffix}`;
      const port = typeof given?.port === "number" ? given.port : 8081;
      const found = index.findServices(host, index.namespaceOf(rl)).some((s) => s.ports.length === 0 || s.ports.some((x) => x.number === port));
      if (found) continue;
      const outcome = spec.failureMode === "deny" ? "answered 500 (flag RLSE, failureMode deny)" : "let through unlimited (counted ratelimit.error)";
      ctx.report(rl, "warning", AnalyzerCodes.rateLimitServiceNotFound, given !== undefined ? ["spec", "rateLimitService"] : ["spec", "rules", firstGlobal, "scope"],
        `global rules call the rate-limit service ${host}:${port}${given === undefined ? " (the default)" : ""}, but no Service or ServiceEntry defines that host and port: every request they limit would be ${outcome}. Load the rate-limit service (samples/ratelimit), or set spec.rateLimitService.`);
    }
  },
};
