// Listeners. Sidecar: the outbound HTTP-proxy listener (route "outbound"), and per port of the
// proxy's own workload an inbound listener with an `inbound|<port>||` cluster that forwards to
// the local app (127.0.0.1:<app port>), routed through the "inbound" route configuration.
// Gateway: one HTTP listener per server port, routed by `http.<port>`.
import { inboundMtlsMode } from "./peer-authn.ts";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";
import type { Cluster, Endpoint, HttpFilterConfig, Listener, ListenerXfcc, Route, RouteConfiguration } from "../../model/proxy-config.ts";
import { clusterKey } from "../../model/proxy-config.ts";
import { appPort, endpointPort, labelsMatch, workloadOf, type Service, type ServicePort, type WorkloadInstance } from "../../model/registry.ts";
import { clusterProtocol } from "./clusters.ts";
import { obj, type ProxyInput } from "./common.ts";
import { gatewayListenerTls } from "./gateway-tls.ts";
import { routeMatch } from "./route-parts.ts";
import type { ProxyScope } from "./scope.ts";
import { connectionPoolConfig } from "./traffic-policy.ts";
import { isHttpPort, OUTBOUND_ROUTE_CONFIG, type GatewayServer } from "./virtual-hosts.ts";

export const INBOUND_ROUTE_CONFIG = "inbound";
/** Istio's outbound capture port; the local runtime passes its own. */
export const DEFAULT_OUTBOUND_PORT = 15001;
const LOCALHOST = "127.0.0.1";

/**
 * The HTTP filters of every HTTP listener, in Istio's order. The security filters take their
 * places in front as they arrive: jwt_authn → ext_authz (CUSTOM) → rbac (DENY, ALLOW) → cors →
 * fault → router; EnvoyFilters' rate limits go just before router (rate-limit/apply.ts).
 */
export function httpFilters(): HttpFilterConfig[] {
  return [{ name: "cors" }, { name: "fault" }, { name: "router" }];
}

export function outboundListener(node: ProxyInput): Listener {
  return {
    name: "outbound",
    direction: "outbound",
    address: node.outboundAddress ?? LOCALHOST,
    port: node.outboundPort ?? DEFAULT_OUTBOUND_PORT,
    protocol: "http",
    routeConfigName: OUTBOUND_ROUTE_CONFIG,
    httpFilters: httpFilters(),
  };
}

/**
 * One listener per Gateway server port. `own` is the gateway's registry instance: when it maps a
 * server port (`ports: {"8080": 18080}`, what the local runtime registers because it cannot bind
 * 8080 for every mesh on a machine), the listener keeps its name and routes but binds the
 * instance's address and mapped port.
 */
export function gatewayListeners(servers: readonly GatewayServer[], own?: WorkloadInstance, mesh?: MeshConfig | null): Listener[] {
  const xfcc = gatewayXfcc(mesh);
  const ports = new Map<number, string>();
  for (const s of servers) if (!ports.has(s.port)) ports.set(s.port, typeof s.server.bind === "string" && s.server.bind ? s.server.bind : "0.0.0.0");
  return [...ports.entries()].sort((a, b) => a[0] - b[0]).map(([port, address]) => {
    const mapped = own?.ports?.[String(port)];
    // TLS termination for HTTPS servers (gateway-tls.ts).
    const tls = gatewayListenerTls(servers.filter((s) => s.port === port).map((s) => s.server));
    return {
      ...(tls !== undefined ? { tls } : {}),
      name: `${address}_${port}`,
      direction: "gateway",
      address: mapped !== undefined && own ? own.address : address,
      port: mapped ?? port,
      protocol: "http",
      routeConfigName: `http.${port}`,
      httpFilters: httpFilters(),
      xfcc,
    };
  });
}

/**
 * x-forwarded-client-cert on gateways, as Istio's buildGatewayConnectionManager: SANITIZE_SET
 * unless MeshConfig `defaultConfig.gatewayTopology.forwardClientCertDetails` names another mode
 * (UNDEFINED: the default); details Subject, Cert, URI, DNS.
 */
export function gatewayXfcc(mesh: MeshConfig | null | undefined): ListenerXfcc {
  const mode = mesh?.defaultConfig?.gatewayTopology?.forwardClientCertDetails;
  return { forward: mode === undefined || mode === "UNDEFINED" ? "SANITIZE_SET" : mode, details: { subject: true, cert: true, uri: true, dns: true } };
}

export interface InboundSet {
  listeners: Listener[];
  clusters: Cluster[];
  endpoints: Record<string, Endpoint[]>;
  route: RouteConfiguration;
}

/** The registry instance this proxy fronts: `instanceName`, else the name in `id` (`sidecar~name.ns`), else the workload name. */
export function ownInstance(scope: ProxyScope): WorkloadInstance | undefined {
  const node = scope.node;
  const ns = node.namespace || "default";
  const fromId = (() => {
    const tilde = node.id.indexOf("~");
    const rest = tilde >= 0 ? node.id.slice(tilde + 1) : node.id;
    return rest.endsWith(`.${ns}`) ? rest.slice(0, -ns.length - 1) : rest;
  })();
  for (const name of [node.instanceName, fromId, node.workload]) {
    if (!name) continue;
    const found = scope.snapshot.instances.find((i) => i.namespace === ns && i.name === name);
    if (found) return found;
  }
  return undefined;
}

/** Services whose selector picks this workload (Kubernetes selectors and ServiceEntry workloadSelectors). */
function ownServices(scope: ProxyScope): Service[] {
  const ns = scope.node.namespace || "default";
  return scope.snapshot.services.filter((s) => s.namespace === ns && s.selector !== undefined && Object.keys(s.selector).length > 0 && labelsMatch(s.selector, scope.node.labels));
}

export function inbound(scope: ProxyScope): InboundSet {
  const inst = ownInstance(scope);
  const listeners: Listener[] = [];
  const clusters: Cluster[] = [];
  const endpoints: Record<string, Endpoint[]> = {};
  const routes: Route[] = [];
  const seen = new Set<number>();
  const entries: { service: Service; port: ServicePort }[] = [];
  for (const service of ownServices(scope)) for (const port of service.ports) entries.push({ service, port });
  for (const { service, port } of entries) {
    const listenPort = inst ? endpointPort(inst, port) : typeof port.targetPort === "number" ? port.targetPort : undefined;
    const app = inst ? appPort(inst, port) : listenPort;
    if (listenPort === undefined || app === undefined || seen.has(listenPort)) continue;
    seen.add(listenPort);
    const name = clusterKey("inbound", typeof port.targetPort === "number" ? port.targetPort : app, "", "");
    const http = isHttpPort(port.protocol);
    clusters.push({
      name,
      direction: "inbound",
      discovery: "eds",
      service: { host: service.host, name: service.name, namespace: service.namespace, port: port.port },
      protocol: clusterProtocol(port.protocol, false, false),
      lb: { policy: "LEAST_REQUEST" },
      connectionPool: connectionPoolConfig(obj(scope.sidecar?.spec.inboundConnectionPool), !http),
    });
    endpoints[name] = [{ address: LOCALHOST, port: app, weight: 1, labels: { ...scope.node.labels }, healthy: true, ...(inst ? { workload: workloadOf(inst) } : {}) }];
    // An undeclared port (no appProtocol, no known name prefix) is detected per connection, as
    // Istio's inbound protocol sniffing: HTTP/1.x and h2c are routed, anything else is TCP.
    const sniffed = port.protocol === "";
    const listener: Listener = {
      name: `inbound|${listenPort}`,
      direction: "inbound",
      address: inst?.address || scope.node.ip || LOCALHOST,
      port: listenPort,
      protocol: sniffed ? "auto" : http ? "http" : "tcp",
    };
    const mtls = inboundMtlsMode(scope, typeof port.targetPort === "number" ? port.targetPort : app);
    if (mtls !== "PERMISSIVE") listener.mtls = mtls;
    if (sniffed) listener.tcpRoute = { clusters: [{ cluster: name, weight: 100 }] };
    if (http) {
      listener.routeConfigName = INBOUND_ROUTE_CONFIG;
      listener.httpFilters = httpFilters();
      // Inbound routes forward as is: no timeout and no retries (Istio's inbound default route).
      routes.push({
        name: name,
        match: { ...routeMatch(undefined), port: listenPort },
        action: { kind: "forward", clusters: [{ cluster: name, weight: 100 }], timeoutMs: 0, retry: { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: false }, mirrors: [] },
        origin: { resource: "default", ruleIndex: -1, matchIndex: -1 },
      });
    } else {
      listener.tcpRoute = { clusters: [{ cluster: name, weight: 100 }] };
    }
    listeners.push(listener);
  }
  routes.sort((a, b) => (a.match.port ?? 0) - (b.match.port ?? 0));
  return {
    listeners,
    clusters,
    endpoints,
    route: { name: INBOUND_ROUTE_CONFIG, virtualHosts: [{ name: "inbound|http|*", domains: ["*"], routes }] },
  };
}
