// The control plane on the Kubernetes platform (--platform kubernetes): what it reads from the API
// server (config, pods, EndpointSlices), whom a sidecar's service-account token names (a
// TokenReview), and what it writes there (the trust bundle as ConfigMap istio-ca-root-cert in every
// namespace, the admin credential as a Secret). Loaded lazily by server.ts, only on this platform.
import type { ProxyPrincipal } from "../auth/token.ts";
import type { Clock } from "../../core/clock.ts";
import type { Registry } from "../../model/registry.ts";
import type { InstanceRegistration } from "../../model/wire.ts";
import { parseNodeId } from "../registry/instance-registry.ts";
import type { ConfigStore, StoreResult } from "../store/config-store.ts";
import { ADMIN_TOKEN_SECRET, publishAdminToken } from "./admin-token-secret.ts";
import { findKubeConfig, type KubeConnection } from "./kube-config.ts";
import { KubernetesSource } from "./kubernetes-source.ts";
import { podRegistration } from "./pod-instance.ts";
import { RootCertPublisher } from "./root-cert-publisher.ts";
import { proxyPrincipalOf, TokenReviewer } from "./token-review.ts";

export interface KubernetesPlatformOptions {
  readonly store: ConfigStore;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /** The cluster's config or pods changed: a new version. */
  readonly changed: () => void;
  /** A pod was deleted: its sidecar's node (`sidecar~<pod>.<namespace>`), whose TCP port assignments can go. */
  readonly podGone?: (node: string) => void;
}

export class KubernetesPlatform {
  /** The proxy a sidecar's projected service-account token belongs to (a TokenReview). */
  readonly reviewToken: (token: string) => Promise<ProxyPrincipal>;
  private readonly conn: KubeConnection;
  private readonly source: KubernetesSource;
  private readonly opts: KubernetesPlatformOptions;
  private rootCertPublisher: RootCertPublisher | null = null;

  private constructor(conn: KubeConnection, opts: KubernetesPlatformOptions) {
    this.conn = conn;
    this.opts = opts;
    const reviewer = new TokenReviewer(conn, () => opts.clock.wallNow());
    this.reviewToken = async (token) => proxyPrincipalOf(await reviewer.review(token));
    opts.log(`kubernetes: reading config and pods from ${conn.server} (${conn.origin})`);
    const podGone = opts.podGone;
    this.source = new KubernetesSource({ conn, store: opts.store, clock: opts.clock, log: opts.log, changed: opts.changed, ...(podGone ? { podGone: (ns: string, name: string) => podGone(`sidecar~${name}.${ns}`) } : {}) });
  }

  /** List the API server's config and pods (this waits for it), then follow their changes. */
  static async attach(kubeconfig: string | undefined, opts: KubernetesPlatformOptions, attached: (platform: KubernetesPlatform) => void): Promise<StoreResult> {
    const platform = new KubernetesPlatform(findKubeConfig(kubeconfig), opts);
    attached(platform);
    return platform.source.start();
  }

  /** Registered instances, and the cluster's pods. */
  registry(registered: Registry): Registry {
    return { services: registered.services, instances: [...registered.instances, ...this.source.workloadInstances()], serviceEndpoints: this.source.serviceEndpoints() };
  }

  /** An injected pod's sidecar (`sidecar~<pod>.<namespace>`), as its pod says. */
  podRegistration(node: string, trustDomain: string): InstanceRegistration | undefined {
    if (!node.startsWith("sidecar~")) return undefined;
    const { name, namespace } = parseNodeId(node);
    return podRegistration(node, this.source.podInstance(namespace, name), trustDomain) ?? undefined;
  }

  podAccount(namespace: string, name: string): string | undefined {
    return this.source.podInstance(namespace, name)?.serviceAccount;
  }

  /** The trust bundle into every namespace's istio-ca-root-cert (this waits for the first listing). */
  async publishRootCert(bundle: string): Promise<void> {
    this.rootCertPublisher = new RootCertPublisher(bundle, { conn: this.conn, clock: this.opts.clock, log: this.opts.log });
    await this.rootCertPublisher.start();
  }

  /** A new trust bundle (a root rotation) into the ConfigMaps. */
  setBundle(bundle: string): void {
    this.rootCertPublisher?.setBundle(bundle);
  }

  /** The admin credential as Secret amime-admin-token in `namespace` (`amime proxy-status --kubeconfig`); a failure is logged, not fatal. */
  async publishAdminToken(namespace: string, token: string): Promise<void> {
    try {
      const how = await publishAdminToken(this.conn, namespace, token);
      this.opts.log(`kubernetes: Secret ${namespace}/${ADMIN_TOKEN_SECRET} ${how} (the admin credential for amime … --kubeconfig)`);
    } catch (e) {
      this.opts.log(`kubernetes: cannot write Secret ${namespace}/${ADMIN_TOKEN_SECRET} (amime proxy-status --kubeconfig will not find this control plane): ${(e as Error).message}`);
    }
  }

  close(): void {
    this.source.close();
    this.rootCertPublisher?.close();
  }
}
