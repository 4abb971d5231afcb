// What the CA puts into every proxy's config, and the operations that change it (docs/security.md):
// the trust bundle (also `<stateDir>/root-cert.pem`), since a root rotation the signing root, and
// the deny list of `amime ca revoke`. Each change is a new version, pushed to every proxy.
import { rename, writeFile } from "node:fs/promises";
import type { Clock } from "../../core/clock.ts";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import type { ProxyState } from "../push/proxy-state.ts";
import type { IdentityIssuer } from "./index.ts";
import type { RevocationList } from "./revocations.ts";
import { rotateRoot, RotationError, type RotationHost, type RotationReport } from "./root-rotation.ts";
import type { SigningCA } from "./signing-ca.ts";

/** With --store and --store-key-file: the rotation every replica runs together (store/etcd/shared-rotation.ts). */
export interface SharedRootRotation {
  rotate(by: string, timeoutMs: number): Promise<RotationReport>;
}

export interface MeshTrustOptions {
  readonly identities: IdentityIssuer;
  readonly clock: Clock;
  /** The proxies' push state (who is connected, what each ACKed). */
  readonly proxies: () => readonly ProxyState[];
  /** Sign with `ca` from now on, and give its roots to every proxy (see RotationHost.install). */
  readonly install: (ca: SigningCA, reissue: boolean) => Promise<void>;
  /** What proxies get changed: a new version. */
  readonly changed: () => void;
  readonly log: (line: string) => void;
}

export class MeshTrust {
  /** The roots the control plane's certificate chains to (what clients verify it with), PEM. */
  trustBundle = "";
  /** `<stateDir>/root-cert.pem`; null without a state dir. */
  rootCertFile: string | null = null;
  /** With --store: replicas rotate the root only together, through etcd (`shared`). */
  replicated = false;
  shared: SharedRootRotation | null = null;
  /** The CA's deny list as proxies get it (refreshed by revoke/unrevoke). */
  private denyList: { serials: string[]; identities: string[] } = { serials: [], identities: [] };
  /** Since a root rotation in this process: the trust bundle and signing root every config carries. */
  private caState: { trustBundle: string[]; signingRoot: string } | null = null;
  private rotating = false;
  private readonly opts: MeshTrustOptions;

  constructor(opts: MeshTrustOptions) {
    this.opts = opts;
  }

  /** The CA's deny list rides along in every proxy's config (absent while it is empty), and the CA state after a rotation. */
  stamp(config: ProxyConfig): ProxyConfig {
    const d = this.denyList;
    const withCa = this.caState === null ? config : { ...config, ...this.caState };
    return d.serials.length === 0 && d.identities.length === 0 ? withCa : { ...withCa, revocations: d };
  }

  /** Take the deny list of `list` (loaded, or changed in etcd by another replica). */
  denyFrom(list: RevocationList): void {
    this.denyList = list.denyList();
  }

  /**
   * `amime ca rotate-root`: a new self-signed root, added to every proxy's trust bundle, every
   * workload (and this control plane) reissued under it, the old root removed. docs/security.md
   */
  async rotateRoot(by: string, timeoutMs: number): Promise<RotationReport> {
    if (this.replicated && this.shared === null) {
      throw new RotationError("replicas on etcd rotate the root together, through etcd, which needs the root shared there: start every replica with --store-key-file and a state dir (docs/security.md, \"Root rotation\")", "CA_ROTATION_UNSHARED");
    }
    if (this.rotating) throw new RotationError("a root rotation is already running", "CA_ROTATION_IN_PROGRESS");
    this.rotating = true;
    this.opts.log(`root rotation by ${by}`);
    try {
      const report = this.shared !== null ? await this.shared.rotate(by, timeoutMs) : await rotateRoot(this.host(), timeoutMs, () => this.opts.clock.wallNow());
      this.opts.log(`root rotation done: ${report.reissued.length} proxies under root ${report.newRoot}`);
      return report;
    } finally {
      this.rotating = false;
    }
  }

  /** What a root rotation's phases act on at this replica (root-rotation.ts). */
  host(): RotationHost {
    const { identities, clock, proxies } = this.opts;
    return {
      identities,
      install: (ca, reissue) => this.opts.install(ca, reissue),
      proxiesHave: (roots, signingRoot) => proxies().every((s) => !s.connected || s.sentVersion === null || (s.ackedVersion === s.sentVersion && s.sentConfig?.signingRoot === signingRoot && s.sentConfig.trustBundle?.join("") === roots.join(""))),
      connectedNodes: () => proxies().filter((s) => s.connected && s.sentVersion !== null).map((s) => s.node),
      rootOf: (node) => identities.latestRootOf(node),
      sleep: (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)),
      log: (l) => this.opts.log(l),
    };
  }

  /** Sign with `ca` from now on: its roots become the trust bundle every config carries. */
  adopt(ca: SigningCA): void {
    this.opts.identities.replace(ca);
    this.trustBundle = ca.roots.join("");
    this.caState = { trustBundle: [...ca.roots], signingRoot: ca.rootFingerprint };
  }

  /** The trust bundle into the root file (atomically: a reader never sees half a bundle). */
  async keepRootFile(): Promise<void> {
    if (this.rootCertFile === null) return;
    const tmp = `${this.rootCertFile}.${process.pid}.tmp`;
    await writeFile(tmp, this.trustBundle);
    await rename(tmp, this.rootCertFile);
  }

  /**
   * `amime ca revoke`: deny a certificate (serial) or an identity from now on. The deny list goes
   * to every proxy with its next push; a revoked identity gets no new certificate.
   */
  async revoke(target: { serial?: string; identity?: string }, by: string): Promise<boolean> {
    const list = await this.opts.identities.revocations();
    return this.changedList(await list.add(target, by, new Date(this.opts.clock.wallNow())), list, "revoke", target, by);
  }

  async unrevoke(target: { serial?: string; identity?: string }, by: string): Promise<boolean> {
    const list = await this.opts.identities.revocations();
    return this.changedList(await list.remove(target), list, "unrevoke", target, by);
  }

  private changedList(changed: boolean, list: RevocationList, what: string, target: { serial?: string; identity?: string }, by: string): boolean {
    if (changed) {
      this.denyFrom(list);
      this.opts.log(`${what} by ${by}: ${target.serial !== undefined ? `serial ${target.serial}` : `identity ${target.identity}`}`);
      this.opts.changed();
    }
    return changed;
  }
}
