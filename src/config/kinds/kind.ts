// KindDefinition: what Amime knows about one kind of resource. Each kind lives in its own file
// under kinds/ and is listed once in kinds/index.ts.
import type { Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";

export interface KindDefinition {
  group: string;
  kind: string;
  /** Versions served, e.g. ["v1alpha3", "v1beta1", "v1"]. */
  versions: readonly string[];
  /** Whether metadata.namespace is meaningful (false for cluster-scoped kinds). */
  namespaced: boolean;
  /** Schema validation of one resource alone (like `istioctl validate`). */
  validate(resource: Resource, v: Validator): void;
}

/** Well-known Kubernetes kinds that Amime accepts in a manifest and ignores, with a warning. */
export const IGNORED_KINDS: ReadonlySet<string> = new Set([
  "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob", "ServiceAccount",
  "ConfigMap", "Secret", "Namespace", "Ingress", "NetworkPolicy", "PersistentVolumeClaim",
  "PersistentVolume", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "HorizontalPodAutoscaler",
  "PodDisruptionBudget", "Endpoints", "EndpointSlice", "CustomResourceDefinition", "Certificate",
  "GatewayClass", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "ReferenceGrant",
]);

/**
 * API groups whose every kind Amime ignores with a warning: the Kubernetes Gateway API (its
 * `Gateway` shares a name with Istio's, so it cannot go in IGNORED_KINDS) and Istio kinds that
 * configure Envoy internals Amime does not have.
 */
export const IGNORED_GROUPS: ReadonlySet<string> = new Set(["gateway.networking.k8s.io", "gateway.networking.x-k8s.io"]);

/** Whether a kind Amime does not define is one it knowingly ignores (warning) rather than an error. */
export function isIgnoredKind(group: string, kind: string): boolean {
  if (IGNORED_GROUPS.has(group)) return true;
  // Kubernetes' own groups only: an Istio group with an unknown kind is an error, not a shrug.
  return IGNORED_KINDS.has(kind) && !group.endsWith("istio.io") && group !== "amime.dev";
}

export const ISTIO_VERSIONS = ["v1alpha3", "v1beta1", "v1"] as const;
export const ISTIO_SECURITY_VERSIONS = ["v1beta1", "v1"] as const;
export const ISTIO_TELEMETRY_VERSIONS = ["v1alpha1", "v1"] as const;
