// Root rotation across control-plane replicas on etcd (docs/security.md, "Root rotation"). The
// replica asked (`amime ca rotate-root` at any of them) drives it:
// - it claims `<prefix>ca-rotation-driver` (create-only, on its own lease): a second rotation
//   started meanwhile anywhere gets 409 CA_ROTATION_IN_PROGRESS, and the claim goes if it dies;
// - it writes `<prefix>ca-rotation` = {id, phase, new root's certificate and key}, sealed with
//   --store-key-file as `<prefix>ca` is (shared-ca.ts), once per phase (1, 2, 3);
// - every replica (the driver too) watches that key and runs each phase for its own proxies
//   (ca/root-rotation.ts enterPhase: push the bundle, sign under the new root, drop the old one),
//   then acknowledges at `<prefix>ca-rotation-acks/<replica>` (on its lease);
// - the driver moves to the next phase once every live replica (`<prefix>replicas/`) acknowledged,
//   so every proxy, whichever replica it is connected to, trusts both roots before anyone signs
//   under the new one, and holds a new-root certificate before anyone drops the old one; a sidecar
//   failing over mid-rotation finds the same bundle at every replica;
// - at the end `<prefix>ca` holds the new root and the rotation keys are deleted. A rotation
//   whose driver stopped (stalled, or died) is resumed at its phase by the next `rotate-root`.
import { randomUUID } from "node:crypto";
import type { Etcd3, Watcher } from "etcd3";
import { enterPhase, RotationError, until, type RotationHost, type RotationPhase, type RotationReport, type RotationRoots } from "../../ca/root-rotation.ts";
import { rootFingerprint } from "../../ca/signing-ca.ts";
import { seal, unseal } from "./shared-ca.ts";
import type { StreamMarks } from "./stream-marks.ts";

interface RotationState {
  id: string;
  by: string;
  phase: RotationPhase;
  oldRoot: string;
  next: { cert: string; key: string };
}

interface Ack {
  id: string;
  phase: number;
  proxies: string[];
}

export interface SharedRotationOptions {
  client: Etcd3;
  prefix: string;
  /** `<prefix>ca`, the shared root. */
  caKey: string;
  replica: string;
  /** The --store-key-file key (shared-ca.ts storeKey). */
  key: Buffer;
  marks: StreamMarks;
  host: RotationHost;
  now: () => number;
  /** How long a replica waits for its proxies in one phase (the API's rotation timeout). */
  phaseTimeoutMs: number;
}

export class SharedRotation {
  readonly #o: SharedRotationOptions;
  readonly #stateKey: string;
  readonly #driverKey: string;
  readonly #acks: string;
  /** The rotation this replica is in, and the phases it completed. */
  #local: { id: string; roots: RotationRoots; done: number } | null = null;
  #chain: Promise<void> = Promise.resolve();
  #watcher: Watcher | null = null;

  constructor(o: SharedRotationOptions) {
    this.#o = o;
    this.#stateKey = `${o.prefix}ca-rotation`;
    this.#driverKey = `${o.prefix}ca-rotation-driver`;
    this.#acks = `${o.prefix}ca-rotation-acks/`;
  }

  /** Join a rotation in progress, then follow the rotation key. */
  async start(): Promise<void> {
    const res = await this.#o.client.get(this.#stateKey).exec();
    const kv = res.kvs[0];
    if (kv !== undefined) this.#adopt(kv.value.toString());
    const w = await this.#o.client.watch().key(this.#stateKey).startRevision(String(Number(res.header.revision) + 1)).create();
    this.#watcher = w;
    w.on("put", (k) => this.#adopt(k.value.toString()));
    w.on("delete", () => {
      this.#chain = this.#chain.then(() => {
        this.#local = null;
      });
    });
    w.on("error", () => {});
  }

  close(): void {
    // Not awaited: a cancel while the watch reconnects (etcd was away) waits for the reconnection.
    void this.#watcher?.cancel().catch(() => {});
  }

  /** Drive a rotation (a new one, or the one whose driver stopped) through its three phases. */
  async rotate(by: string, timeoutMs: number): Promise<RotationReport> {
    const { client, host, now } = this.#o;
    const claim = await client.if(this.#driverKey, "Create", "==", 0).then(this.#o.marks.onLease(this.#driverKey, this.#o.replica)).commit();
    if (!claim.succeeded) {
      const driver = await client.get(this.#driverKey).string();
      throw new RotationError(`a root rotation is already in progress, driven by replica ${driver ?? "?"}; wait for it (or run this again once it stopped)`, "CA_ROTATION_IN_PROGRESS");
    }
    try {
      let state = await this.#read();
      if (state === null) {
        const old = await host.identities.ca();
        const { certPem, keyPem } = await old.nextRoot();
        state = { id: randomUUID(), by, phase: 1, oldRoot: old.rootFingerprint, next: { cert: certPem, key: keyPem } };
      } else {
        host.log(`root rotation: resuming the rotation started by ${state.by} at step ${state.phase}/3`);
      }
      const deadline = now() + timeoutMs;
      let reissued: string[] = [];
      for (let p = state.phase; p <= 3; p++) {
        state = { ...state, phase: p as RotationPhase };
        await client.put(this.#stateKey).value(seal(this.#o.key, this.#stateKey, JSON.stringify(state))).exec();
        const id = state.id;
        let acks: Ack[] = [];
        await until(host, `waiting for every replica to complete step ${p}/3`, async () => {
          acks = await this.#acksAt(id, p);
          return acks.length > 0;
        }, deadline, now);
        if (p === 2) reissued = acks.flatMap((a) => a.proxies).sort();
      }
      // The new root is the shared one from now on (a replica starting later takes it).
      await client.put(this.#o.caKey).value(seal(this.#o.key, this.#o.caKey, JSON.stringify({ key: state.next.key, cert: state.next.cert }))).exec();
      await client.delete().key(this.#stateKey).exec();
      await client.delete().prefix(this.#acks).exec();
      return { oldRoot: state.oldRoot, newRoot: rootFingerprint(state.next.cert), reissued };
    } finally {
      await client.delete().key(this.#driverKey).exec().catch(() => {});
    }
  }

  async #read(): Promise<RotationState | null> {
    const v = await this.#o.client.get(this.#stateKey).string();
    return v === null ? null : (JSON.parse(unseal(this.#o.key, this.#stateKey, v)) as RotationState);
  }

  /** The acks of every live replica once all of them reached `phase` of rotation `id`; [] before. */
  async #acksAt(id: string, phase: number): Promise<Ack[]> {
    const live = await this.#o.client.getAll().prefix(`${this.#o.prefix}replicas/`).keys();
    const acks = await this.#o.client.getAll().prefix(this.#acks).strings();
    const out: Ack[] = [];
    for (const k of live) {
      const replica = k.slice(`${this.#o.prefix}replicas/`.length);
      const raw = acks[`${this.#acks}${replica}`];
      const ack = raw === undefined ? undefined : (JSON.parse(raw) as Ack);
      if (ack === undefined || ack.id !== id || ack.phase < phase) return [];
      out.push(ack);
    }
    return out;
  }

  /** Run the phases this replica has not run yet, one rotation event at a time. */
  #adopt(sealed: string): void {
    this.#chain = this.#chain.then(async () => {
      const state = JSON.parse(unseal(this.#o.key, this.#stateKey, sealed)) as RotationState;
      const { host, now } = this.#o;
      if (this.#local?.id !== state.id) {
        const old = await host.identities.ca();
        const { ca: next, persist } = await old.adoptRoot(state.next.cert, state.next.key);
        this.#local = { id: state.id, roots: { old, next, persist }, done: 0 };
      }
      const local = this.#local;
      const deadline = now() + this.#o.phaseTimeoutMs;
      for (let p = local.done + 1; p <= state.phase; p++) {
        await enterPhase(host, p as RotationPhase, local.roots, deadline, now);
        local.done = p;
      }
      const ack: Ack = { id: state.id, phase: local.done, proxies: host.connectedNodes() };
      await this.#o.marks.onLease(`${this.#acks}${encodeURIComponent(this.#o.replica)}`, JSON.stringify(ack)).exec();
    }).catch((e: unknown) => this.#o.host.log(`root rotation: this replica did not complete its step: ${(e as Error).message}`));
  }
}
