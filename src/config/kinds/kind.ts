// KindDefinition: what Amime knows about one kind of resource. Each kind lives in its own file
// under kinds/ and is listed once in kinds/index.ts.
import type { Resource } from "../resource.ts";
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

export const ISTIO_VERSIONS = ["v1alpha3", "v1beta1", "v1"] as const;
export const ISTIO_SECURITY_VERSIONS = ["v1beta1", "v1"] as const;
export const ISTIO_TELEMETRY_VERSIONS = ["v1alpha1", "v1"] as const;
