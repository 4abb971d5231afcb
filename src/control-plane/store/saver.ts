// What the config store hands to where it keeps its changes (a saver: the embedded file,
// etcd), and what such a place hands back: versions it numbered, a conflict, a stale view, or a
// batch of changes made elsewhere (another replica) for the store to adopt.
import type { Diagnostic } from "../../model/diagnostic.ts";
import type { Resource } from "../../model/resource.ts";
import type { ApplyResult } from "../../model/wire.ts";
import { idOfKey } from "./resource-set.ts";
import type { DurableState, ResourceMeta } from "./store-file.ts";

/** What a saver writes: everything but the change log, which the control plane adds. */
export type SavedState = Omit<DurableState, "changes">;

export type ChangeList = ApplyResult["changes"];

/** Who asked for a change through the API, and when (the change log records it). */
export interface Actor {
  by: string;
  at: Date;
}

/** One accepted change, as a saver gets it before the change is adopted. */
export interface StoreWrite {
  /** The whole durable state after the change (what the embedded file store writes). */
  state: SavedState;
  changes: ChangeList;
  actor: Actor | null;
  /** Applied resources created or changed by this change (key → resource and its new generation). */
  put: ReadonlyMap<string, { resource: Resource; generation: number }>;
  /** Applied resources this change removes (keys). */
  removed: readonly string[];
  /** The resourceVersion each key of `put` and `removed` had before (0: it did not exist). */
  expected: ReadonlyMap<string, number>;
  /** The store's resourceVersion the change was judged on. */
  base: number;
}

/**
 * Persist a change before it is adopted; throwing refuses it (a StoreConflictError as a conflict,
 * anything else as a failed save). A saver that numbers versions itself (etcd: the revision of its
 * write) returns that number: every resource the change created or changed takes it.
 */
export type Saver = (write: StoreWrite) => Promise<number | undefined> | number | undefined;

/** Called synchronously when a change is adopted (`actor` null for file loads and restored state). */
export type ChangeListener = (result: StoreResult, actor: Actor | null) => void;

/** A saver found that what it was to replace had changed meanwhile (another replica wrote it). */
export class StoreConflictError extends Error {
  readonly code = "CP_STORE_CONFLICT";
  /** Keys (`resourceKey`) whose stored version moved. */
  readonly keys: readonly string[];
  /** The version each key has now (absent: deleted). */
  readonly current: ReadonlyMap<string, number>;
  constructor(keys: readonly string[], current: ReadonlyMap<string, number>) {
    super(`changed meanwhile: ${keys.map(idOfKey).join(", ")}`);
    this.name = "StoreConflictError";
    this.keys = keys;
    this.current = current;
  }
}

export interface StoreResult {
  accepted: boolean;
  /** Something the snapshot reads changed (false for an accepted no-op). */
  changed: boolean;
  changes: ChangeList;
  diagnostics: Diagnostic[];
}

/**
 * A saver found that the store's view is behind (another replica wrote something this one has not
 * seen yet, none of it what this change touches): the store waits until it has adopted `revision`
 * and judges the change again.
 */
export class StoreStaleError extends Error {
  readonly code = "CP_STORE_STALE";
  readonly revision: number;
  constructor(revision: number) {
    super(`the store moved on to revision ${revision} meanwhile`);
    this.name = "StoreStaleError";
    this.revision = revision;
  }
}

/** Changes made elsewhere (another replica, through etcd), numbered there, for the store to adopt. */
export interface ExternalChange {
  /** Resources created or changed, with the versions they were written with. */
  put: ReadonlyMap<string, { resource: Resource; meta: ResourceMeta }>;
  /** Keys removed. */
  removed: readonly string[];
  /** The store's resourceVersion after this change. */
  revision: number;
  actor: Actor | null;
}
