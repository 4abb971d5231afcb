// What the mesh CA must know the same at every replica (`--store etcd://…`), kept in etcd:
// - which bootstrap credential got its first certificate: `<prefix>bootstrap/<jti>` → {serial,
//   node}, written create-only (or, after that serial was revoked, only if it did not change
//   since it was read), so of two replicas a credential reaches at once exactly one issues;
// - which node each issued certificate went to: `<prefix>certificates/<serial>` → node, on an
//   etcd lease of the certificate's lifetime (the key goes when the certificate expires), so a
//   replica renewing a certificate another replica issued knows whose it is (`amime proxy-config
//   secret`). Without these, each replica knew only what it had issued itself;
// - which root each node's latest certificate chains to: `<prefix>roots/<node>` → fingerprint, on
//   the same lease, so a root rotation at one replica knows a proxy renewed at another.
import type { Etcd3 } from "etcd3";
import type { SharedCaLedger, SpentCredential } from "../../ca/shared-ledger.ts";
import { EtcdUnavailableError } from "./etcd-store.ts";

export class EtcdCaLedger implements SharedCaLedger {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #url: string;

  constructor(client: Etcd3, prefix: string, url: string) {
    this.#client = client;
    this.#prefix = prefix;
    this.#url = url;
  }

  async spent(jti: string): Promise<SpentCredential | undefined> {
    const res = await this.#call(() => this.#client.get(this.#bootstrapKey(jti)).exec());
    const kv = res.kvs[0];
    if (kv === undefined) return undefined;
    const v = JSON.parse(kv.value.toString()) as { serial: string };
    return { serial: v.serial, revision: Number(kv.mod_revision) };
  }

  async claim(jti: string, serial: string, node: string, previous: SpentCredential | undefined): Promise<boolean> {
    const key = this.#bootstrapKey(jti);
    const res = await this.#call(() => this.#client.if(key, "Mod", "==", previous?.revision ?? 0).then(this.#client.put(key).value(JSON.stringify({ serial, node }))).commit());
    return res.succeeded;
  }

  async noteSerial(serial: string, node: string, notAfter: Date, root: string): Promise<void> {
    const ttl = Math.max(1, Math.ceil((notAfter.getTime() - Date.now()) / 1000));
    const lease = this.#client.lease(ttl, { autoKeepAlive: false });
    lease.on("lost", () => {});
    await this.#call(async () => {
      await lease.put(this.#certificateKey(serial)).value(node).exec();
      await lease.put(this.#rootKey(node)).value(root).exec();
    });
    lease.release();
  }

  async rootOf(node: string): Promise<string | undefined> {
    return (await this.#call(() => this.#client.get(this.#rootKey(node)).string())) ?? undefined;
  }

  #rootKey(node: string): string {
    return `${this.#prefix}roots/${encodeURIComponent(node)}`;
  }

  async nodeOf(serial: string): Promise<string | undefined> {
    return (await this.#call(() => this.#client.get(this.#certificateKey(serial)).string())) ?? undefined;
  }

  #bootstrapKey(jti: string): string {
    return `${this.#prefix}bootstrap/${jti}`;
  }

  #certificateKey(serial: string): string {
    return `${this.#prefix}certificates/${serial}`;
  }

  async #call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw new EtcdUnavailableError(this.#url, e);
    }
  }
}
