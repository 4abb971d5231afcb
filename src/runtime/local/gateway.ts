// The ingress gateway of the local mesh: one `amime proxy` process with node kind "gateway" and
// Istio's ingress labels, so Gateways with `selector: {istio: ingressgateway}` bind to it.
// A Gateway server port (8080) cannot be bound as is on a developer's machine (taken, or several
// meshes at once), so each one is mapped to a free loopback port: the gateway is registered with
// `ports: {"8080": <local port>}` and its listener `0.0.0.0_8080` binds 127.0.0.1:<local port>.
import { join } from "node:path";
import { sidecarEnv } from "../../core/sidecar-node-flags.ts";
import type { Resource } from "../../model/resource.ts";
import { labelsMatch, type WorkloadInstance } from "../../model/registry.ts";
import type { InstanceRegistration } from "../../model/wire.ts";
import { checkOnce } from "./probe.ts";
import { ManagedProcess } from "./managed-process.ts";
import { LOCAL_ADDRESS, nodeId } from "./plan.ts";
import type { InstanceContext } from "./instance.ts";
import { describeExit } from "./instance.ts";

export const INGRESS_NAME = "istio-ingressgateway-0";
export const INGRESS_NAMESPACE = "istio-system";
export const INGRESS_SERVICE_ACCOUNT = "istio-ingressgateway-service-account";
export const INGRESS_LABELS: Readonly<Record<string, string>> = { istio: "ingressgateway", app: "istio-ingressgateway" };
const HTTP_PROTOCOLS: ReadonlySet<string> = new Set(["HTTP", "HTTP2", "GRPC", "GRPC-WEB"]);
const HTTPS_PROTOCOLS: ReadonlySet<string> = new Set(["HTTPS"]);

/**
 * Server ports of the Gateways that select the ingress gateway: the HTTP ones ascending, then the
 * HTTPS ones (TLS terminated at the gateway) that are not also HTTP ports.
 */
export function ingressServerPorts(resources: readonly Resource[]): number[] {
  const http = serverPorts(resources, HTTP_PROTOCOLS);
  return [...http, ...serverPorts(resources, HTTPS_PROTOCOLS).filter((p) => !http.includes(p))];
}

/** The HTTPS server ports among them (the ingress URL of an HTTPS-only gateway is https://). */
export function ingressHttpsPorts(resources: readonly Resource[]): number[] {
  return serverPorts(resources, HTTPS_PROTOCOLS);
}

function serverPorts(resources: readonly Resource[], protocols: ReadonlySet<string>): number[] {
  const ports = new Set<number>();
  for (const r of resources) {
    if (r.kind !== "Gateway" || r.group !== "networking.istio.io") continue;
    const spec = (r.body.spec ?? {}) as { selector?: Record<string, string>; servers?: { port?: { number?: number; protocol?: string } }[] };
    if (!labelsMatch(spec.selector ?? {}, INGRESS_LABELS)) continue;
    for (const s of spec.servers ?? []) {
      const n = s.port?.number;
      if (typeof n === "number" && protocols.has((s.port?.protocol ?? "").toUpperCase())) ports.add(n);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * A path worth printing after the ingress URL: the first exact URI match of a VirtualService
 * bound to a gateway (bookinfo: `/productpage`), else "/".
 */
export function ingressHint(resources: readonly Resource[]): string {
  for (const r of resources) {
    if (r.kind !== "VirtualService") continue;
    const spec = (r.body.spec ?? {}) as { gateways?: string[]; http?: { match?: { uri?: { exact?: string } }[] }[] };
    if (!(spec.gateways ?? []).some((g) => g !== "mesh")) continue;
    for (const h of spec.http ?? []) for (const m of h.match ?? []) if (m.uri?.exact) return m.uri.exact;
  }
  return "/";
}

export class IngressGateway {
  /** Gateway server port → local port. */
  readonly portMap: ReadonlyMap<number, number>;
  readonly adminPort: number;
  private readonly ctx: InstanceContext;
  private readonly proc: ManagedProcess;
  private poll: NodeJS.Timeout | null = null;
  private stopped = false;
  ready = false;

  constructor(portMap: ReadonlyMap<number, number>, adminPort: number, ctx: InstanceContext) {
    this.portMap = portMap;
    this.adminPort = adminPort;
    this.ctx = ctx;
    const logFile = join(ctx.logDir, `${INGRESS_NAME}.log`);
    this.proc = new ManagedProcess({
      policy: "Always",
      spec: () => ({
        command: ctx.sidecar.command,
        args: [...ctx.sidecar.args, "proxy", "--xds", ctx.controlPlaneUrl, "--root-cert", ctx.rootCertFile, "--node", this.nodeId, "--admin-port", String(adminPort)],
        cwd: ctx.repoRoot,
        env: {
          ...sidecarEnv(process.env),
          AMIME_PROXY_TOKEN: ctx.credential({ node: this.nodeId, namespace: INGRESS_NAMESPACE, serviceAccount: INGRESS_SERVICE_ACCOUNT }),
        },
        logFile,
      }),
      onStart: () => {
        // Back from a crash loop: its registration may have been cleaned up meanwhile (as instance.ts).
        if (this.proc.restarts > 0) void ctx.registry.put(this.registration()).catch((e: Error) => ctx.log(`${INGRESS_NAME}: cannot update the control plane: ${e.message}`));
        this.watch();
        ctx.onChange();
      },
      onExit: (exit, delay) => {
        this.ready = false;
        ctx.log(`${INGRESS_NAME}: gateway ${describeExit(exit)}; restarting in ${(delay ?? 0) / 1000} s (log: ${logFile})`);
      },
    });
  }

  get nodeId(): string {
    return nodeId("gateway", INGRESS_NAME, INGRESS_NAMESPACE);
  }

  get pid(): number | null {
    return this.proc.current?.pid ?? null;
  }

  registration(): InstanceRegistration {
    const ports: Record<string, number> = {};
    for (const [server, local] of this.portMap) ports[String(server)] = local;
    const instance: WorkloadInstance = {
      name: INGRESS_NAME,
      workload: "istio-ingressgateway",
      namespace: INGRESS_NAMESPACE,
      labels: { ...INGRESS_LABELS },
      serviceAccount: INGRESS_SERVICE_ACCOUNT,
      address: LOCAL_ADDRESS,
      ports,
      ready: true,
    };
    return {
      instance,
      nodeId: this.nodeId,
      node: { id: this.nodeId, kind: "gateway", workload: "istio-ingressgateway", namespace: INGRESS_NAMESPACE, labels: { ...INGRESS_LABELS }, serviceAccount: instance.serviceAccount, trustDomain: "cluster.local", ip: LOCAL_ADDRESS },
      // A gateway has no outbound (HTTP proxy) listener.
      outboundPort: 0,
    };
  }

  async start(): Promise<void> {
    await this.ctx.registry.put(this.registration());
    this.proc.start();
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.poll) clearTimeout(this.poll);
    await this.proc.stop(graceMs);
    await this.ctx.registry.delete(INGRESS_NAMESPACE, INGRESS_NAME).catch(() => {});
  }

  private watch(): void {
    this.ready = false;
    const tick = async (): Promise<void> => {
      if (this.stopped || !this.proc.current) return;
      if (await checkOnce("httpGet", this.adminPort, "/ready", 1000)) {
        this.ready = true;
        return;
      }
      this.poll = setTimeout(() => void tick(), 100);
    };
    this.poll = setTimeout(() => void tick(), 100);
  }
}
