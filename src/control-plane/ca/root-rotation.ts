// Root rotation (`amime ca rotate-root`), in three pushes, so that no handshake fails on the way
// (docs/security.md, "Root rotation"):
//   1. a new self-signed root joins the trust bundle every proxy gets (old + new); wait until every
//      connected proxy ACKed it: everyone now trusts both;
//   2. the CA signs under the new root (the control plane's own certificate too) and the config
//      names it (`signingRoot`): each sidecar renews at once, authenticated by its old certificate,
//      which still chains to the bundle; wait until every connected proxy holds a new-root certificate;
//   3. the new root is made permanent (files in the CA dir) and the old one leaves the bundle.
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
  readonly code = "CA_ROTATION_STALLED";
  readonly status = 504;
}

const POLL_MS = 100;

export async function rotateRoot(host: RotationHost, timeoutMs: number, now: () => number): Promise<RotationReport> {
  const old = await host.identities.ca();
  const { ca: next, persist } = await old.nextRoot();
  const oldRoot = old.rootFingerprint;
  const newRoot = next.rootFingerprint;
  const deadline = now() + timeoutMs;
  const until = async (what: string, done: () => boolean): Promise<void> => {
    while (!done()) {
      if (now() > deadline) throw new RotationError(`root rotation stalled ${what}; the old root stays in the trust bundle (run it again once the proxies are back)`);
      await host.sleep(POLL_MS);
    }
  };

  host.log(`root rotation: step 1/3, new root ${newRoot.slice(0, 16)}… added to the trust bundle`);
  const both = next.roots;
  await host.install(old.withRoots(both), false);
  await until("waiting for every proxy to trust the new root", () => host.proxiesHave(both, oldRoot));

  host.log("root rotation: step 2/3, signing under the new root; every workload renews");
  await host.install(next, true);
  await until("waiting for every proxy to renew under the new root", () => host.proxiesHave(both, newRoot) && host.connectedNodes().every((n) => host.identities.rootOf(n) === newRoot));
  const reissued = host.connectedNodes();

  const only = [both.at(-1) as string];
  await persist();
  host.log(`root rotation: step 3/3, old root ${oldRoot.slice(0, 16)}… removed from the trust bundle`);
  await host.install(next.withRoots(only), false);
  await until("waiting for every proxy to drop the old root", () => host.proxiesHave(only, newRoot));
  return { oldRoot, newRoot, reissued };
}
