// Wiring a control plane's ConfigStore to etcd: take back what etcd holds (one batch, judged as a
// whole), save every later change there, and adopt what any replica writes (the watch). A batch
// this replica wrote itself comes back through the watch too and changes nothing.
import { formatDiagnostic, type Diagnostic } from "../../../model/diagnostic.ts";
import type { Random } from "../../../core/random.ts";
import type { RevocationList } from "../../ca/revocations.ts";
import type { ChangeLog } from "../change-log.ts";
import type { ConfigStore, ExternalChange } from "../config-store.ts";
import { EtcdStore } from "./etcd-store.ts";
import { loadEtcdCredentials, type EtcdTlsFiles } from "./etcd-tls.ts";
import type { EtcdStoreUrl } from "./store-url.ts";

export interface AttachHooks {
  store: ConfigStore;
  changes: ChangeLog;
  random: Random;
  log: (line: string) => void;
  /** The control plane is closing: adopt nothing more. */
  closing: () => boolean;
  /** Something the snapshot reads changed: schedule a push; returns the new config version. */
  changed: () => string;
}

/** Connect and take back the stored state; `accepted` false when that state has errors here. */
export async function attachEtcdStore(url: EtcdStoreUrl, tls: EtcdTlsFiles, h: AttachHooks, created: (etcd: EtcdStore) => void): Promise<{ accepted: boolean; diagnostics: Diagnostic[] }> {
  const credentials = await loadEtcdCredentials(url, tls);
  const etcd = new EtcdStore({ url, random: h.random, log: h.log, ...(credentials !== undefined ? { credentials } : {}) });
  created(etcd);
  const state = await etcd.load();
  for (const d of state.unusable) h.log(`config store: ${d.message}`);
  h.changes.restore(state.changes);
  const adopted = await h.store.adopt(state.batch);
  if (!adopted.accepted) return adopted;
  h.log(`config store: ${state.batch.put.size} resource(s) from etcd ${url.text} (prefix ${url.prefix}, revision ${state.batch.revision})`);
  h.store.persistWith((w) => etcd.save(w));
  await etcd.watch(state.readRevision, (b) => void adoptExternal(b, h), (s) => {
    // Everything read again (the watch lost its place): what is no longer there was deleted.
    h.changes.restore(s.changes);
    const removed = h.store.appliedKeys().filter((k) => !s.batch.put.has(k));
    void adoptExternal({ ...s.batch, removed }, h);
  });
  return adopted;
}

/** A write another replica made (or this one: then nothing changes). */
async function adoptExternal(b: ExternalChange, h: AttachHooks): Promise<void> {
  if (h.closing()) return;
  const r = await h.store.adopt(b);
  if (r.accepted && r.changed) {
    const version = h.changed();
    const done = r.changes.filter((c) => c.action !== "unchanged").map((c) => `${c.resource} ${c.action}`);
    h.log(`etcd revision ${b.revision}${b.actor !== null ? ` by ${b.actor.by}` : ""}: ${done.join(", ")} (${version})`);
  } else if (!r.accepted) {
    h.log(`etcd revision ${b.revision}: refused, keeping the last good config:\n  ${r.diagnostics.filter((d) => d.level === "error").map(formatDiagnostic).join("\n  ")}`);
  }
}

/**
 * The CA's deny list shared through etcd: the stored one replaces this replica's (a first replica
 * seeds etcd with its own), every later revoke/unrevoke is written there first, and lists other
 * replicas write are taken (`changed` then refreshes what proxies get).
 */
export async function shareRevocations(etcd: EtcdStore, list: RevocationList, changed: () => void): Promise<void> {
  if (!etcd.holdsRevocations && list.entries().length > 0) await etcd.saveRevocations(list.entries());
  list.shareWith((entries) => etcd.saveRevocations(entries));
  etcd.onRevocations((entries) => {
    if (list.adopt(entries)) changed();
  });
}
