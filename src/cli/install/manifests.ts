// Everything `amime install` puts into a cluster, as Kubernetes objects (pure): the namespace,
// Istio's CRDs, the plug-in CA secret, RBAC, the control plane's Deployment and Service, the node
// agent's DaemonSet (node-agent-manifests.ts), and the
// two admission webhook configurations with the mesh root as their caBundle. Names follow
// Istio's where a tool or a habit looks for them (istio-system, cacerts, istio-injection,
// validation.istio.io, *.sidecar-injector.istio.io). docs/kubernetes.md, "amime install".
import type { JsonObject } from "../../model/resource.ts";
import { nodeAgentManifests } from "./node-agent-manifests.ts";

export const DEFAULT_NAMESPACE = "istio-system";
export const NAME = "amime";
/**
 * Istio's ports: 15012 xDS over TLS, 443 webhooks (15017). The control plane listens on 15012 itself,
 * as istiod does: sidecars name `amime.<ns>.svc:15012`, and its Host check wants the port it listens on.
 */
export const XDS_SERVICE_PORT = 15012;
export const WEBHOOK_SERVICE_PORT = 443;
const CONTROL_PLANE_PORT = XDS_SERVICE_PORT;
const WEBHOOK_PORT = 15017;
const CACERTS_DIR = "/etc/cacerts";

export interface InstallSettings {
  namespace: string;
  image: string;
  /** Istio's plug-in CA files (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem). */
  cacerts: Readonly<Record<string, string>>;
  /** Istio's CRDs (networking, security, telemetry, extensions). */
  crds: readonly JsonObject[];
  /** Extra control-plane flags (e.g. the platform to watch). */
  controlPlaneArgs?: readonly string[];
}

/** Where the API server calls the webhooks: the Service (in a cluster) or a URL (tests: a process on loopback). */
export type WebhookClient = { service: { namespace: string; name: string; port: number } } | { url: string };

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

export function serviceHost(namespace: string): string {
  return `${NAME}.${namespace}.svc`;
}

/** In apply order: what others need first (namespace, CRDs) to the webhooks last. */
export function installManifests(s: InstallSettings): JsonObject[] {
  const ns = s.namespace;
  const labels = { app: NAME, "app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "amime" };
  const rootPem = s.cacerts["root-cert.pem"] ?? "";
  const args = [
    // Config and pods from the cluster, with the pod's own service account (the ClusterRole below).
    "control-plane", "--platform", "kubernetes", ...(s.controlPlaneArgs ?? []),
    "--host", "0.0.0.0", "--port", String(CONTROL_PLANE_PORT), "--state-dir", "/var/lib/amime", "--cacerts", CACERTS_DIR,
    "--allowed-host", serviceHost(ns), "--allowed-host", `${serviceHost(ns)}.cluster.local`,
    "--webhook-port", String(WEBHOOK_PORT), "--sidecar-image", s.image, "--sidecar-xds", `https://${serviceHost(ns)}:${XDS_SERVICE_PORT}`,
  ];
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "istio-injection": "disabled" } } },
    ...s.crds,
    { apiVersion: "v1", kind: "Secret", metadata: { name: "cacerts", namespace: ns, labels }, type: "Opaque", data: Object.fromEntries(Object.entries(s.cacerts).map(([k, v]) => [k, b64(v)])) },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: NAME, namespace: ns, labels } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: NAME, labels },
      rules: [
        { apiGroups: [""], resources: ["services", "endpoints", "pods", "namespaces", "serviceaccounts", "nodes"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"], resources: ["*"], verbs: ["get", "list", "watch"] },
        // A Warning Event on each Istio object the control plane refuses (docs/kubernetes.md).
        { apiGroups: [""], resources: ["events"], verbs: ["create"] },
        // Sidecars' projected service-account tokens, checked as istiod checks them.
        { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
        // The mesh root as ConfigMap istio-ca-root-cert in every namespace (istiod's namespace controller).
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "update"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: NAME, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NAME },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
    },
    // Its admin credential as Secret amime-admin-token in its own namespace (amime proxy-status --kubeconfig).
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: NAME, namespace: ns, labels },
      rules: [
        { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
        { apiGroups: [""], resources: ["secrets"], resourceNames: ["amime-admin-token"], verbs: ["get", "update"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: NAME, namespace: ns, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NAME },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
    },
    {
      apiVersion: "v1", kind: "Service", metadata: { name: NAME, namespace: ns, labels },
      spec: {
        selector: { app: NAME },
        ports: [
          { name: "https-xds", port: XDS_SERVICE_PORT, targetPort: CONTROL_PLANE_PORT, protocol: "TCP" },
          { name: "https-webhook", port: WEBHOOK_SERVICE_PORT, targetPort: WEBHOOK_PORT, protocol: "TCP" },
        ],
      },
    },
    {
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: NAME, namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: NAME } },
        template: {
          metadata: { labels: { ...labels, "sidecar.istio.io/inject": "false" } },
          spec: {
            serviceAccountName: NAME,
            containers: [{
              name: NAME,
              image: s.image,
              args,
              env: [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
              ports: [{ name: "https-xds", containerPort: CONTROL_PLANE_PORT }, { name: "https-webhook", containerPort: WEBHOOK_PORT }],
              readinessProbe: { httpGet: { scheme: "HTTPS", path: "/ready", port: WEBHOOK_PORT }, periodSeconds: 3, timeoutSeconds: 5 },
              resources: { requests: { cpu: "500m", memory: "512Mi" } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337 },
              volumeMounts: [{ name: "cacerts", mountPath: CACERTS_DIR, readOnly: true }, { name: "state", mountPath: "/var/lib/amime" }],
            }],
            volumes: [{ name: "cacerts", secret: { secretName: "cacerts" } }, { name: "state", emptyDir: {} }],
          },
        },
      },
    },
    // TCP services captured in injected pods (docs/kubernetes.md, "The node agent").
    ...nodeAgentManifests(ns, s.image),
    ...webhookConfigurations(ns, rootPem, { service: { namespace: ns, name: NAME, port: WEBHOOK_SERVICE_PORT } }),
  ];
}

/** The validating and mutating webhook configurations (Istio's rules and selectors, failurePolicy Fail). */
export function webhookConfigurations(namespace: string, caBundlePem: string, client: WebhookClient): JsonObject[] {
  const clientConfig = (path: string): JsonObject => ("url" in client ? { url: `${client.url}${path}`, caBundle: b64(caBundlePem) } : { service: { ...client.service, path }, caBundle: b64(caBundlePem) });
  const common = { sideEffects: "None", admissionReviewVersions: ["v1"], failurePolicy: "Fail", timeoutSeconds: 10 };
  const podRules = [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }];
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: { name: `amime-validator-${namespace}`, labels: { app: NAME } },
      webhooks: [{
        name: "validation.istio.io",
        clientConfig: clientConfig("/validate"),
        rules: [{ operations: ["CREATE", "UPDATE"], apiGroups: ["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"], apiVersions: ["*"], resources: ["*"] }],
        ...common,
      }],
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name: `amime-sidecar-injector-${namespace}`, labels: { app: NAME } },
      webhooks: [
        {
          name: "namespace.sidecar-injector.istio.io",
          clientConfig: clientConfig("/inject"),
          rules: podRules,
          namespaceSelector: { matchExpressions: [{ key: "istio-injection", operator: "In", values: ["enabled"] }] },
          objectSelector: { matchExpressions: [{ key: "sidecar.istio.io/inject", operator: "NotIn", values: ["false"] }] },
          reinvocationPolicy: "Never",
          ...common,
        },
        {
          name: "object.sidecar-injector.istio.io",
          clientConfig: clientConfig("/inject"),
          rules: podRules,
          namespaceSelector: { matchExpressions: [{ key: "istio-injection", operator: "DoesNotExist" }, { key: "istio.io/rev", operator: "DoesNotExist" }] },
          objectSelector: { matchExpressions: [{ key: "sidecar.istio.io/inject", operator: "In", values: ["true"] }, { key: "istio.io/rev", operator: "DoesNotExist" }] },
          reinvocationPolicy: "Never",
          ...common,
        },
      ],
    },
  ];
}
