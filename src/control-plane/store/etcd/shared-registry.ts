// The instance registry shared by control-plane replicas on etcd: a registration (or its removal)
// made at any replica is written to `<prefix>instances/<namespace>/<name>`, and every replica
// adopts what the others write, so a sidecar that fails over to another replica finds its
// instance there, whichever replica the runtime told. A replica applies its own change at once
// (the API answers without waiting for etcd) and writes it behind; an event for a key older than
// this replica's latest write of it, or arriving while such a write is in flight, is skipped, so
// a quick register → ready → deregister sequence never flaps back. Registrations stay in etcd
// until deregistered (docs/control-plane.md, "Config in etcd").
import type { Etcd3, IKeyValue, Watcher } from "etcd3";
import type { InstanceRegistration } from "../../../model/wire.ts";

export interface RegistryTarget {
  /** Adopt a registration another replica wrote (validated by the registry: it may throw). */
  put(namespace: string, name: string, reg: InstanceRegistration): void;
  remove(namespace: string, name: string): void;
}

export class SharedRegistry {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #log: (line: string) => void;
  readonly #target: RegistryTarget;
  readonly #inFlight = new Map<string, number>();
  readonly #written = new Map<string, number>();
  #watcher: Watcher | null = null;
  #closed = false;

  constructor(client: Etcd3, prefix: string, target: RegistryTarget, log: (line: string) => void) {
    this.#client = client;
    this.#prefix = `${prefix}instances/`;
    this.#target = target;
    this.#log = log;
  }

  /** Take every stored registration, then follow changes. */
  async start(): Promise<void> {
    const res = await this.#client.getAll().prefix(this.#prefix).exec();
    for (const kv of res.kvs) this.#adopt(kv, false);
    const w = await this.#client.watch().prefix(this.#prefix).startRevision(String(Number(res.header.revision) + 1)).create();
    this.#watcher = w;
    w.on("put", (kv) => this.#adopt(kv, false));
    w.on("delete", (kv) => this.#adopt(kv, true));
    w.on("error", (e) => {
      if (!this.#closed) this.#log(`etcd: instance registry watch: ${e.message}`);
    });
  }

  /** Write this replica's change behind (null: deregistered). */
  write(namespace: string, name: string, reg: InstanceRegistration | null): void {
    const key = `${namespace}/${name}`;
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    const op = reg === null ? this.#client.delete().key(this.#prefix + key).exec() : this.#client.put(this.#prefix + key).value(JSON.stringify(reg)).exec();
    void op.then((r) => {
      this.#written.set(key, Math.max(this.#written.get(key) ?? 0, Number(r.header.revision)));
    }, (e: unknown) => {
      this.#log(`etcd: instance ${key} ${reg === null ? "removal" : "registration"} not shared with other replicas: ${(e as Error).message}`);
    }).finally(() => {
      const n = (this.#inFlight.get(key) ?? 1) - 1;
      if (n === 0) this.#inFlight.delete(key);
      else this.#inFlight.set(key, n);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Not awaited: a cancel while the watch reconnects (etcd was away) waits for the reconnection.
    void this.#watcher?.cancel().catch(() => {});
  }

  #adopt(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString().slice(this.#prefix.length);
    const slash = key.indexOf("/");
    if (slash <= 0) return;
    if (this.#inFlight.has(key) || Number(kv.mod_revision) < (this.#written.get(key) ?? 0)) return;
    const [namespace, name] = [key.slice(0, slash), key.slice(slash + 1)];
    if (deleted) {
      this.#target.remove(namespace, name);
      return;
    }
    try {
      this.#target.put(namespace, name, JSON.parse(kv.value.toString()) as InstanceRegistration);
    } catch (e) {
      this.#log(`etcd: ${kv.key.toString()} is not an instance registration (${(e as Error).message}); ignored`);
    }
  }
}
