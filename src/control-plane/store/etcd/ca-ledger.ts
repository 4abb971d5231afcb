// What the mesh CA must know the same at every replica (`--store etcd://…`), kept in etcd:
// - which bootstrap credential got its first certificate: `<prefix>bootstrap/<jti>` → {serial,
//   node}, written create-only (or, after that serial was revoked, only if it did not change
//   since it was read), so of two replicas a credential reaches at once exactly one issues;
// - in the same transaction, what answers that request again (`<prefix>bootstrap-answers/<jti>` →
//   {csrSha256, certificate}, ca/bootstrap-answer.ts) on an etcd lease of the certificate's
//   lifetime: a proxy whose answer was lost gets the same certificate at any replica;
// - which node each issued certificate went to: `<prefix>certificates/<serial>` → node, on an
//   etcd lease of the certificate's lifetime (the key goes when the certificate expires), so a
//   replica renewing a certificate another replica issued knows whose it is (`amime proxy-config
//   secret`). Without these, each replica knew only what it had issued itself;
// - which root each node's latest certificate chains to: `<prefix>roots/<node>` → fingerprint, on
//   the same lease, so a root rotation at one replica knows a proxy renewed at another.
import type { Etcd3, Lease } from "etcd3";
import { bareSerial, readBootstrapAnswer } from "../../ca/bootstrap-answer.ts";
import type { BootstrapAnswer, SharedCaLedger, SpentCredential } from "../../ca/shared-ledger.ts";
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
    const key = this.#bootstrapKey(jti);
    // Two reads, not one snapshot: an answer is used only if it is the recorded serial's (ca/bootstrap-answer.ts).
    const [res, answerText] = await this.#call(() => Promise.all([this.#client.get(key).exec(), this.#client.get(this.#answerKey(jti)).string()]));
    const kv = res.kvs[0];
    if (kv === undefined) return undefined;
    const where = `etcd ${this.#url} key ${key}`;
    const serial = (parseJson(kv.value.toString(), where) as { serial?: unknown } | null)?.serial;
    if (typeof serial !== "string") throw new Error(`${where}: no serial in ${kv.value.toString()}`);
    const answerKey = `etcd ${this.#url} key ${this.#answerKey(jti)}`;
    const answer = answerText === null ? undefined : readBootstrapAnswer(parseJson(answerText, answerKey), answerKey);
    return { serial, revision: Number(kv.mod_revision), ...(answer !== undefined ? { answer } : {}) };
  }

  async claim(jti: string, answer: BootstrapAnswer, node: string, previous: SpentCredential | undefined): Promise<boolean> {
    const key = this.#bootstrapKey(jti);
    const serial = bareSerial(answer.certificate.serial);
    const lease = this.#lease(new Date(answer.certificate.notAfter));
    // The spent mark and its answer in one transaction: a replica that lost the race writes neither.
    const res = await this.#call(async () => {
      const id = await lease.grant();
      const put = [this.#client.put(key).value(JSON.stringify({ serial, node })), this.#client.put(this.#answerKey(jti)).value(JSON.stringify(answer)).lease(id)];
      return this.#client.if(key, "Mod", "==", previous?.revision ?? 0).then(...put).commit();
    });
    if (res.succeeded) lease.release();
    else await lease.revoke().catch(() => {});
    return res.succeeded;
  }

  async noteSerial(serial: string, node: string, notAfter: Date, root: string): Promise<void> {
    const lease = this.#lease(notAfter);
    await this.#call(async () => {
      await lease.put(this.#certificateKey(serial)).value(node).exec();
      await lease.put(this.#rootKey(node)).value(root).exec();
    });
    lease.release();
  }

  /** A lease that ends when a certificate valid until `notAfter` expires (kept alive by nobody). */
  #lease(notAfter: Date): Lease {
    const ttl = Math.max(1, Math.ceil((notAfter.getTime() - Date.now()) / 1000));
    const lease = this.#client.lease(ttl, { autoKeepAlive: false });
    lease.on("lost", () => {});
    return lease;
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

  #answerKey(jti: string): string {
    return `${this.#prefix}bootstrap-answers/${jti}`;
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

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${where} is not valid JSON (${(e as Error).message})`);
  }
}
