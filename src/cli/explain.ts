// `amime explain WORKLOAD URL`: why a request from that workload's proxy would go where it goes,
// worked out from the config the control plane pushed to it, without sending anything.
import type { Command } from "./command.ts";
import { parseArgs, UsageError } from "./lib/args.ts";
import type { ProxyConfig } from "../model/proxy-config.ts";
import { requestView } from "../proxy/router/request-view.ts";
import { bearerPrincipal, explainAuthz } from "../explain/authz.ts";
import { explainInboundRateLimits } from "../explain/rate-limits.ts";
import { formatExplainReport } from "../explain/format.ts";
import { explainRequest, type ExplainReport } from "../explain/report.ts";
import { ExplainError, parseExplainRequest, type ExplainRequest } from "../explain/request.ts";
import { formatStructured } from "./lib/output.ts";
import { resolveProxy } from "./lib/proxy-ref.ts";
import { CommandError, connect, helpRequested, runCommand } from "./lib/run.ts";

export const EXPLAIN_HELP = `Usage: amime explain WORKLOAD URL [-H 'name: value']… [-X METHOD] [-n NS] [-o json|yaml]

Explain what WORKLOAD's proxy would do with a request to URL, from the config the control plane
pushed to it, without sending anything: the listener and route configuration, the virtual host
and the domain that chose it, every route in order (matched, or each failing condition), the
winning route and where it came from (VirtualService, file:line, http[i].match[j]), the
destinations with their weights and share of traffic, timeout, retries, fault injection,
mirroring, rewrites and header edits, the listener's rate limits (local bucket, the global
filter's descriptors) and the destination's (the RateLimit rules the request falls under), each cluster's load balancer, connection pool and outlier
settings, and the endpoints it would pick from. No route: says 404 NR and why.

WORKLOAD is a node id, an instance name (productpage-v1-0) or a workload name (productpage-v1).
URL is what the app calls, e.g. http://reviews:9080/reviews/1 (the scheme may be left out).

Options:
  -H, --header 'k: v'   a request header; repeatable (\`Host: x\` sets the authority)
  -X, --request METHOD  request method (default GET)
  -n, --namespace NS    namespace of WORKLOAD when names repeat across namespaces
  -o, --output FORMAT   json or yaml: the same report as a structure
  --control-plane URL   control plane to ask (default: $AMIME_CONTROL_PLANE, else .amime/up.json
                        written by \`amime up\` in this directory or a parent)
  --token-file FILE     admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                        beside the state file or in this directory or a parent)
  -h, --help            show this help

Exit status: 0 when the request would be routed (forwarded, redirected or answered by a direct
response), 1 when it would fail (404 NR, 503 NC/UH, injected abort of every request) or on errors,
2 on usage errors.
`;

export const explainCommand: Command = {
  name: "explain",
  run: (argv) => runCommand("explain", EXPLAIN_HELP, async () => {
    const args = parseArgs(argv, [
      { name: "header", short: "H", type: "list" },
      { name: "request", short: "X", type: "string" },
      { name: "namespace", short: "n", type: "string" },
      { name: "output", short: "o", type: "string", choices: ["json", "yaml"] },
    ]);
    if (helpRequested(args, EXPLAIN_HELP)) return 0;
    const [ref, url, ...extra] = args.positionals;
    if (ref === undefined || url === undefined) throw new UsageError("needs a WORKLOAD and a URL, e.g. `amime explain productpage-v1 http://reviews:9080/reviews/1`");
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    let request: ExplainRequest;
    try {
      request = parseExplainRequest(url, args.strings.get("request") ?? "GET", args.lists.get("header") ?? []);
    } catch (e) {
      if (e instanceof ExplainError) throw new UsageError(e.message);
      throw e;
    }
    const client = await connect(args);
    const node = await resolveProxy(client, ref, args.strings.get("namespace"));
    const config = await client.proxyConfig(node);
    let report;
    try {
      report = explainRequest(config, request);
    } catch (e) {
      // RouterError: config the proxy itself would have refused (NACK).
      throw new CommandError("AMIME_EXPLAIN", `amime explain: the route configuration of ${node} cannot be compiled: ${(e as Error).message}`);
    }
    if (report.outcome.kind === "forward") report.authorization = await destinationAuthz(client, config, report, request, args.strings.get("namespace"));
    const output = args.strings.get("output");
    process.stdout.write(output === "json" || output === "yaml" ? formatStructured(report, output) : formatExplainReport(report));
    return report.outcome.kind === "fail" ? 1 : 0;
  }),
};

/** Up to 3 destination workloads (candidate endpoints): what their inbound authn/authz would decide. */
async function destinationAuthz(client: Awaited<ReturnType<typeof connect>>, source: ProxyConfig, report: ExplainReport, request: ExplainRequest, namespace: string | undefined): Promise<NonNullable<ExplainReport["authorization"]>> {
  const targets = new Map<string, { port: number; mtls: boolean }>();
  for (const d of report.destinations) {
    for (const e of d.endpoints) {
      if (e.candidate && e.workload !== undefined && !targets.has(e.workload) && targets.size < 3) targets.set(e.workload, { port: e.port, mtls: d.config?.tls?.mode === "ISTIO_MUTUAL" });
    }
  }
  // Over ISTIO_MUTUAL the destination sees the caller's certificate identity.
  const n = source.node;
  const principal = `${n.trustDomain}/ns/${n.namespace}/sa/${n.serviceAccount}`;
  const out: NonNullable<ExplainReport["authorization"]> = [];
  for (const [workload, { port, mtls }] of targets) {
    let node: string;
    try {
      node = await resolveProxy(client, workload, namespace);
    } catch {
      out.push({ node: workload, summary: "not shown: its proxy is not connected to the control plane (no pushed config to read)" });
      continue;
    }
    try {
      const dest = await client.proxyConfig(node);
      const view = explainAuthz(dest, port, request, source.node.ip, mtls ? principal : "");
      if (view !== null) out.push(view);
      const payload = bearerPrincipal(request.headers.authorization)?.payload;
      const rv = { ...requestView({ method: request.method, path: request.path, authority: request.authority, scheme: request.scheme, port, headers: request.headers, sourceIp: source.node.ip, ...(payload !== undefined ? { jwtPayload: payload } : {}) }), peerPrincipal: mtls ? principal : "" };
      const limits = explainInboundRateLimits(dest, port, rv);
      if (limits?.limits !== undefined) (report.destinationRateLimits ??= []).push(limits);
    } catch (e) {
      out.push({ node: workload, summary: `not shown: ${(e as Error).message}` });
    }
  }
  return out;
}
