// The list of `amime` commands, in the order `amime --help` shows them. One line per command.
// A command's module (and what it imports: the control plane, the proxy, gRPC, Redis, X.509…) is
// loaded only when that command runs, so `amime proxy` does not load the control plane's code.
import type { Command } from "./command.ts";

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: "validate", summary: "check each config document's schema and values (like istioctl validate)", load: async () => (await import("./validate.ts")).validateCommand },
  { name: "up", summary: "run a local mesh: control plane, workloads with sidecars, ingress gateway", load: async () => (await import("./up.ts")).upCommand },
  { name: "down", summary: "stop the mesh of this directory; after a crash, remove what it left (netns included)", load: async () => (await import("./down.ts")).downCommand },
  { name: "exec", summary: "run a command with an instance's sidecar as its HTTP proxy", load: async () => (await import("./exec.ts")).execCommand },
  { name: "analyze", summary: "check config files for errors across resources (like istioctl analyze)", load: async () => (await import("./analyze.ts")).analyzeCommand },
  { name: "proxy", summary: "run the sidecar proxy from a ProxyConfig file", load: async () => (await import("./proxy.ts")).proxyCommand },
  { name: "control-plane", summary: "run the control plane (config store, registry, push to proxies)", load: async () => (await import("./control-plane.ts")).controlPlaneCommand },
  { name: "apply", summary: "create or update config in the running control plane (like kubectl apply)", load: async () => (await import("./apply.ts")).applyCommand },
  { name: "delete", summary: "remove config from the running control plane (like kubectl delete)", load: async () => (await import("./delete.ts")).deleteCommand },
  { name: "get", summary: "list config held by the running control plane (like kubectl get)", load: async () => (await import("./get.ts")).getCommand },
  { name: "proxy-status", summary: "show each proxy's connection and config sync state (like istioctl proxy-status)", load: async () => (await import("./proxy-status.ts")).proxyStatusCommand },
  { name: "proxy-config", summary: "show the listeners, routes, clusters or endpoints pushed to a proxy (like istioctl proxy-config)", load: async () => (await import("./proxy-config.ts")).proxyConfigCommand },
  { name: "explain", summary: "explain how a workload's proxy would route a request (sends nothing)", load: async () => (await import("./explain.ts")).explainCommand },
  { name: "top", summary: "live golden signals (rps, errors, p50/p90/p99) per service version", load: async () => (await import("./top.ts")).topCommand },
  { name: "dashboard", summary: "open the mesh dashboard in a browser (graph, signals, traces, config), signed in", load: async () => (await import("./dashboard.ts")).dashboardCommand },
  { name: "ratelimit-service", summary: "run the global rate-limit service (Envoy's RLS protocol, counters in memory or Redis)", load: async () => (await import("./ratelimit-service.ts")).ratelimitServiceCommand },
  { name: "install", summary: "print or apply what Amime needs in a Kubernetes cluster (CRDs, RBAC, control plane, webhooks)", load: async () => (await import("./install.ts")).installCommand },
  { name: "uninstall", summary: "print or delete what amime install put into a cluster", load: async () => (await import("./uninstall.ts")).uninstallCommand },
  { name: "capture", summary: "install a pod's traffic capture rules (the injected istio-init container runs it)", load: async () => (await import("./capture.ts")).captureCommand },
  { name: "node-agent", summary: "keep injected pods' TCP service capture in step with their sidecars, on one node (amime install's DaemonSet)", load: async () => (await import("./node-agent.ts")).nodeAgentCommand },
  { name: "wait", summary: "wait until the sidecar is ready (the injected postStart hook of holdApplicationUntilProxyStarts)", load: async () => (await import("./wait.ts")).waitCommand },
  { name: "ca", summary: "the mesh CA's deny list: revoke or un-revoke a certificate or an identity, list", load: async () => (await import("./ca.ts")).caCommand },
];
