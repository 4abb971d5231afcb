// The Kubernetes platform (ingest stage): config and workload instances read from a Kubernetes API
// server with list + watch, fed to the same store → snapshot → translate → push as config files.
// Loaded lazily by the control plane (server.ts) only with --platform kubernetes.
export { apiServerFailure, findKubeConfig, KubeConfigError, type KubeConnection } from "./kube-config.ts";
export { KubernetesSource, listClusterConfig, type KubernetesSourceOptions } from "./kubernetes-source.ts";
export { getJson, KubeApiError, listAll, Reflector, type KubeObject } from "./reflector.ts";
export { podRegistration } from "./pod-instance.ts";
export { ISTIO_CA_AUDIENCE, proxyPrincipalOf, TokenReviewer, TokenReviewError, type ReviewedToken } from "./token-review.ts";
export { IGNORED_NAMESPACES, ROOT_CERT_CONFIG_MAP, RootCertPublisher } from "./root-cert-publisher.ts";
export { ADMIN_TOKEN_SECRET, publishAdminToken } from "./admin-token-secret.ts";
export { KubernetesPlatform, type KubernetesPlatformOptions } from "./platform.ts";
export { nodeAgentInstalled, nodeAgentMissing } from "./node-agent-check.ts";
