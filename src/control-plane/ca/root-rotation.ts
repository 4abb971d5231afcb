// Root rotation (`amime ca rotate-root`), in three phases, so that no handshake fails on the way
// (docs/security.md, "Root rotation"):
//   1. a new self-signed root joins the trust bundle every proxy gets (old + new); wait until every
//      connected proxy ACKed it: everyone now trusts both;
//   2. the CA signs under the new root (the control plane's own certificate too) and the config
//      names it (`signingRoot`): each sidecar renews at once, authenticated by its old certificate,
//      which still chains to the bundle; wait until every connected proxy holds a new-root certificate;
//   3. the new root is made permanent (files in the CA dir) and the old one leaves the bundle.
// One control plane runs the phases itself (rotateRoot); replicas on etcd run each phase when the
// replica driving the rotation writes it there (store/etcd/shared-rotation.ts), with enterPhase.
import type { IdentityIssuer } from "./index.ts";
import type { SigningCA } from "./signing-ca.ts";

export interface RotationHost {
  readonly identities: IdentityIssuer;
  /** Sign with `ca` and push its roots (and, with `reissue`, renew the control plane's own certificate under it). */
  install(ca: SigningCA, reissue: boolean): Promise<void>;
  /** Every connected proxy with a config ACKed the latest push carrying `signingRoot` and exactly `roots`. */
  proxiesHave(roots: readonly string[], signingRoot: string): boolean;
  /** Nodes of the connected proxies that get configs. */
  connectedNodes(): string[];
  /** Fingerprint of the root of the certificate `node` last got (from any replica); undefined if unknown. */
  rootOf(node: string): Promise<string | undefined>;
  /** Resolves after `ms` (the control plane's clock). */
  sleep(ms: number): Promise<void>;
  log(line: string): void;
}

export interface RotationReport {
  oldRoot: string;
  newRoot: string;
  /** Proxies that got a certificate under the new root during the rotation. */
  reissued: string[];
}

export class RotationError extends Error {
  readonly code: "CA_ROTATION_STALLED" | "CA_ROTATION_IN_PROGRESS" | "CA_ROTATION_UNSHARED";
  readonly status: number;
  constructor(message: string, code: RotationError["code"] = "CA_ROTATION_STALLED") {
    super(message);
    this.code = code;
    this.status = code === "CA_ROTATION_STALLED" ? 504 : code === "CA_ROTATION_IN_PROGRESS" ? 409 : 400;
  }
}

export type RotationPhase = 1 | 2 | 3;

/** The CA before the rotation and the one under the new root (trusting both); `persist` keeps the new root in the CA dir. */
export interface RotationRoots {
  old: SigningCA;
  next: SigningCA;
  persist: () => Promise<void>;
}

const POLL_MS = 100;

/** Resolves once `done()` holds; throws RotationError naming `what` past `deadline` (ms on `now`). */
export async function until(host: RotationHost, what: string, done: () => boolean | Promise<boolean>, deadline: number, now: () => number): Promise<void> {
  while (!(await done())) {
    if (now() > deadline) throw new RotationError(`root rotation stalled ${what}; the old root stays in the trust bundle (run it again once the proxies are back)`);
    await host.sleep(POLL_MS);
  }
}

/** Install phase `p` at this control plane and resolve once every proxy connected to it has it. */
export async function enterPhase(host: RotationHost, p: RotationPhase, r: RotationRoots, deadline: number, now: () => number): Promise<void> {
  const oldRoot = r.old.rootFingerprint;
  const newRoot = r.next.rootFingerprint;
  const both = r.next.roots;
  if (p === 1) {
    host.log(`root rotation: step 1/3, new root ${newRoot.slice(0, 16)}… added to the trust bundle`);
    await host.install(r.old.withRoots(both), false);
    await until(host, "waiting for every proxy to trust the new root", () => host.proxiesHave(both, oldRoot), deadline, now);
  } else if (p === 2) {
    host.log("root rotation: step 2/3, signing under the new root; every workload renews");
    await host.install(r.next, true);
    await until(host, "waiting for every proxy to renew under the new root", async () => host.proxiesHave(both, newRoot) && (await everyRoot(host, newRoot)), deadline, now);
  } else {
    const only = [both.at(-1) as string];
    await r.persist();
    host.log(`root rotation: step 3/3, old root ${oldRoot.slice(0, 16)}… removed from the trust bundle`);
    await host.install(r.next.withRoots(only), false);
    await until(host, "waiting for every proxy to drop the old root", () => host.proxiesHave(only, newRoot), deadline, now);
  }
}

async function everyRoot(host: RotationHost, root: string): Promise<boolean> {
  for (const n of host.connectedNodes()) if ((await host.rootOf(n)) !== root) return false;
  return true;
}

/** A rotation run by this control plane alone (no replicas). */
export async function rotateRoot(host: RotationHost, timeoutMs: number, now: () => number): Promise<RotationReport> {
  const old = await host.identities.ca();
  const { ca: next, persist } = await old.nextRoot();
  const roots: RotationRoots = { old, next, persist };
  const deadline = now() + timeoutMs;
  await enterPhase(host, 1, roots, deadline, now);
  await enterPhase(host, 2, roots, deadline, now);
  const reissued = host.connectedNodes();
  await enterPhase(host, 3, roots, deadline, now);
  return { oldRoot: old.rootFingerprint, newRoot: next.rootFingerprint, reissued };
}
