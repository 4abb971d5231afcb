// What the injector adds to a pod, shaped as Istio's injection template (istio-init, istio-proxy,
// the token and root volumes, the status annotation), running the one Amime image: `amime
// capture` installs the netns runtime's capture rules in the pod's network namespace, `amime
// proxy --xds` is the sidecar. Pure; inject-admission.ts turns it into a JSON Patch.
import type { Json, JsonObject } from "../../../model/resource.ts";
import { ADMIN_PORT, PROMETHEUS_PORT, PROXY_GID, PROXY_UID, STATUS_PORT, type CaptureAnnotations } from "../../../model/sidecar-pod.ts";
import { SIDECAR_ENV, SIDECAR_NODE_FLAGS } from "../../../core/sidecar-node-flags.ts";
import type { SidecarResources } from "./annotations.ts";

export const INIT_CONTAINER = "istio-init";
export const PROXY_CONTAINER = "istio-proxy";
/** Istio's names: the projected service-account token and the mesh root ConfigMap. */
export const TOKEN_VOLUME = "istio-token";
export const ROOT_VOLUME = "istiod-ca-cert";
export const TOKEN_DIR = "/var/run/secrets/tokens";
export const ROOT_DIR = "/var/run/secrets/istio";
/** The sidecar's entry in the image: the bundle of the built JavaScript tree (Dockerfile, src/runtime/js-build/). */
export const IMAGE_SIDECAR_ENTRY = "/amime/dist/bundle/run-proxy.js";

export interface InjectorSettings {
  /** The Amime image (control plane and sidecar), e.g. `ghcr.io/example/amime:0.1.0`. */
  image: string;
  /** Where sidecars reach the control plane, e.g. `https://amime.istio-system.svc:15012`. */
  controlPlaneUrl: string;
  /** The ConfigMap holding the mesh root as `root-cert.pem` in every namespace (Istio's `istio-ca-root-cert`). */
  rootCertConfigMap: string;
  /** Audience of the projected service-account token the sidecar presents (Istio's `istio-ca`). */
  tokenAudience: string;
  /** MeshConfig defaultConfig.holdApplicationUntilProxyStarts (Istio's default: false). */
  holdApplicationUntilProxyStarts: boolean;
}

export interface PodSidecar {
  capture: CaptureAnnotations;
  /** Declared app port → its sidecar inbound listener (9080 → 15006). */
  inbound: ReadonlyMap<number, number>;
  resources: SidecarResources;
}

const field = (name: string, path: string): JsonObject => ({ name, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: path } } });

/** The init container: captures the pod's traffic, then exits (root with NET_ADMIN/NET_RAW only, as istio-init). */
export function initContainer(s: InjectorSettings, p: PodSidecar): JsonObject {
  const args: string[] = ["capture", "--pod-ip", "$(POD_IP)", "--node-ip", "$(HOST_IP)", "--inbound-ports", [...p.inbound].map(([app, l]) => `${app}:${l}`).join(",")];
  if (p.capture.excludeOutboundPorts.length > 0) args.push("--exclude-outbound-ports", p.capture.excludeOutboundPorts.join(","));
  if (p.capture.excludeInboundPorts.length > 0) args.push("--exclude-inbound-ports", p.capture.excludeInboundPorts.join(","));
  if (p.capture.excludeOutboundIPRanges.length > 0) args.push("--exclude-outbound-ip-ranges", p.capture.excludeOutboundIPRanges.join(","));
  if (p.capture.includeOutboundIPRanges !== null) args.push("--include-outbound-ip-ranges", p.capture.includeOutboundIPRanges.join(","));
  return {
    name: INIT_CONTAINER,
    image: s.image,
    args,
    env: [field("POD_IP", "status.podIP"), field("HOST_IP", "status.hostIP")],
    resources: resources(p.resources),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] },
      privileged: false,
      readOnlyRootFilesystem: false,
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    },
  };
}

/** The sidecar: `amime proxy --xds`, UID/GID 1337 (the capture rules let its own traffic out). */
export function proxyContainer(s: InjectorSettings, p: PodSidecar, hold: boolean): JsonObject {
  const c: JsonObject = {
    name: PROXY_CONTAINER,
    image: s.image,
    // Node with the sidecar's V8 flags on the built tree, not the image's `amime` entrypoint (which
    // runs the TypeScript sources): ≈ 30 MB less per pod and a faster start (docs/performance.md).
    command: ["node", ...SIDECAR_NODE_FLAGS, IMAGE_SIDECAR_ENTRY],
    args: [
      "proxy", "--xds", s.controlPlaneUrl, "--node", "sidecar~$(POD_NAME).$(POD_NAMESPACE)",
      "--root-cert", `${ROOT_DIR}/root-cert.pem`, "--token-file", `${TOKEN_DIR}/${TOKEN_VOLUME}`,
      // As Istio's: the admin (config dump, drain) on loopback only (`amime wait` polls it there);
      // the read-only status port (the kubelet's probes) and Prometheus port on every address.
      "--admin-address", "127.0.0.1", "--admin-port", String(ADMIN_PORT),
      "--status-port", String(STATUS_PORT), "--status-address", "0.0.0.0", "--prometheus-address", "0.0.0.0",
    ],
    env: [
      field("POD_NAME", "metadata.name"), field("POD_NAMESPACE", "metadata.namespace"), field("INSTANCE_IP", "status.podIP"), field("SERVICE_ACCOUNT", "spec.serviceAccountName"), field("HOST_IP", "status.hostIP"),
      ...Object.entries(SIDECAR_ENV).map(([name, value]) => ({ name, value })),
    ],
    // Istio's template declares only the Prometheus port.
    ports: [{ containerPort: PROMETHEUS_PORT, name: "http-envoy-prom", protocol: "TCP" }],
    readinessProbe: { httpGet: { path: "/healthz/ready", port: STATUS_PORT }, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 },
    startupProbe: { httpGet: { path: "/healthz/ready", port: STATUS_PORT }, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 },
    resources: resources(p.resources),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: PROXY_GID,
      runAsNonRoot: true,
      runAsUser: PROXY_UID,
    },
    volumeMounts: [{ name: ROOT_VOLUME, mountPath: ROOT_DIR }, { name: TOKEN_VOLUME, mountPath: TOKEN_DIR }],
  };
  // Istio's holdApplicationUntilProxyStarts: the sidecar is the first container, and the kubelet
  // starts the next one only once this postStart hook returns (the proxy is ready).
  if (hold) c.lifecycle = { postStart: { exec: { command: ["amime", "wait"] } } };
  return c;
}

export function volumes(s: InjectorSettings): JsonObject[] {
  return [
    { name: TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: s.tokenAudience, expirationSeconds: 43200, path: TOKEN_VOLUME } }] } },
    { name: ROOT_VOLUME, configMap: { name: s.rootCertConfigMap } },
  ];
}

/** `sidecar.istio.io/status`, byte for byte in Istio's key order. */
export function statusAnnotation(): string {
  return JSON.stringify({ initContainers: [INIT_CONTAINER], containers: [PROXY_CONTAINER], volumes: [TOKEN_VOLUME, ROOT_VOLUME], imagePullSecrets: null, revision: "default" });
}

function resources(r: SidecarResources): Json {
  return { limits: { cpu: r.limits.cpu, memory: r.limits.memory }, requests: { cpu: r.requests.cpu, memory: r.requests.memory } };
}
