// Amime with end-user authentication and authorization on the path, beside the plain `amime` row
// (opt-in: --amime-config bench --targets amime,amime-authz): the hand-written bench config plus
// `jwt_authn` (Istio's demo.jwt issuer, inline jwks.json) and `rbac` with five AuthorizationPolicies
// (DENY on a path, on an IP block and on a header, AUDIT on GET, ALLOW on the token's principal);
// every request carries demo.jwt, so each one is verified (from the per-token cache after the
// first) and decided. Issue 13's bound: CPU per request within 15 % of `amime`.
// `amime-token` sends the same requests (demo.jwt in Authorization) to the bench config without
// the two filters: against it, the difference is the filters' own work, not the ~1 KB header every
// request of the row carries (read, scanned and decoded by any proxy, filters or not).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { benchProxyConfig, startAmime } from "./amime.ts";
import type { RunningTarget, StartContext, TargetFactory } from "./target.ts";

const ISS = "testing@secure.istio.io";

interface BenchConfig {
  listeners: { httpFilters?: unknown[] }[];
}

const policy = (name: string, action: string, rules: unknown[]): object => ({ name: `ns[default]-policy[${name}]`, namespace: "default", action, dryRun: false, rules });

/** Istio's demo.jwt, the token every request of these rows carries. */
function demoToken(root: string): string {
  return readFileSync(join(root, "test", "fixtures", "istio", "security", "tools", "jwt", "samples", "demo.jwt"), "utf8").trim();
}

export const amimeTokenTarget: TargetFactory = {
  name: "amime-token",
  unavailable: () => null,
  async start(ctx: StartContext): Promise<RunningTarget> {
    const target = await startAmime("amime-token", ctx, ctx.root, (port) => benchProxyConfig(port, ctx.upstreamPort));
    return { ...target, headers: [`Authorization: Bearer ${demoToken(ctx.root)}`] };
  },
};

export const amimeAuthzTarget: TargetFactory = {
  name: "amime-authz",
  unavailable: () => null,
  async start(ctx: StartContext): Promise<RunningTarget> {
    const samples = join(ctx.root, "test", "fixtures", "istio", "security", "tools", "jwt", "samples");
    const jwks = readFileSync(join(samples, "jwks.json"), "utf8");
    const token = demoToken(ctx.root);
    const target = await startAmime("amime-authz", ctx, ctx.root, (port) => {
      const c = benchProxyConfig(port, ctx.upstreamPort) as BenchConfig;
      const policies = [
        policy("allow-token", "ALLOW", [{ from: [{ source: { requestPrincipals: [`${ISS}/${ISS}`] } }] }]),
        policy("audit-get", "AUDIT", [{ to: [{ operation: { methods: ["GET"] } }] }]),
        policy("deny-admin", "DENY", [{ to: [{ operation: { paths: ["/admin/*"] } }] }]),
        policy("deny-blocked", "DENY", [{ when: [{ key: "request.headers[x-block]", values: ["1"] }] }]),
        policy("deny-range", "DENY", [{ from: [{ source: { ipBlocks: ["10.99.0.0/16"] } }] }]),
      ];
      c.listeners[0]!.httpFilters = [
        { name: "jwt_authn", config: { providers: [{ issuer: ISS, audiences: [], jwks, timeoutMs: 5000, fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], required: false }] } },
        { name: "rbac", config: { policies, useRemoteAddress: false, trustedHops: 0 } },
        { name: "cors" },
        { name: "fault" },
        { name: "router" },
      ];
      return c;
    });
    return { ...target, headers: [`Authorization: Bearer ${token}`] };
  },
};
