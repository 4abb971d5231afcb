// The resources a sidecar holds on a delta stream (src/model/wire.ts DeltaMessage): per type, name
// → version and resource. Every message of the stream is folded in, in order, whether or not the
// config it leads to is then accepted: the control plane diffs against what it sent, so this state
// must be what it sent. The running config is separate (the Sidecar's): a rejected change leaves
// the sidecar on its last good config while this state still holds the change, until a later
// message fixes it. A full-state message replaces everything.
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { assembleConfig, RESOURCE_TYPES, type ResourceType } from "../../model/resources.ts";
import type { DeltaMessage } from "../../model/wire.ts";

/** Per type: what one message changed (for counters). */
export type FoldResult = Map<ResourceType, { updated: number; removed: number }>;

export class ResourceState {
  /**
   * Per type, name → resource: the very maps the config is assembled from (a 1,000-service full
   * state's ≈ 7,000 resources are not copied into new maps for it), and apart from them name → version.
   */
  private readonly held = new Map<ResourceType, Map<string, unknown>>();
  private readonly heldVersions = new Map<ResourceType, Map<string, string>>();
  /** Per type, the version the control plane gave it with the last change. */
  readonly typeVersions = new Map<ResourceType, string>();

  /** Fold one message in. A malformed message throws (the caller NACKs it) and changes nothing. */
  fold(msg: DeltaMessage): FoldResult {
    check(msg);
    if (msg.full) {
      this.held.clear();
      this.heldVersions.clear();
      this.typeVersions.clear();
    }
    const result: FoldResult = new Map();
    for (const type of RESOURCE_TYPES) {
      const d = msg.types[type];
      if (d === undefined) continue;
      let m = this.held.get(type);
      let v = this.heldVersions.get(type);
      if (m === undefined || v === undefined) {
        this.held.set(type, (m = new Map()));
        this.heldVersions.set(type, (v = new Map()));
      }
      for (const name of d.removed) {
        m.delete(name);
        v.delete(name);
      }
      for (const r of d.resources) {
        m.set(r.name, r.resource);
        v.set(r.name, r.version);
      }
      this.typeVersions.set(type, d.version);
      result.set(type, { updated: d.resources.length, removed: d.removed.length });
    }
    return result;
  }

  /** The config these resources make, at the control plane's `version`. */
  config(version: string): ProxyConfig {
    return assembleConfig(version, this.held);
  }

  /** Per type: name → version (admin /config_dump). */
  versions(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [type, m] of this.heldVersions) out[type] = Object.fromEntries(m);
    return out;
  }
}

const TYPES = new Set<string>(RESOURCE_TYPES);

function check(msg: DeltaMessage): void {
  const fail = (path: string, what: string): never => {
    throw new Error(`delta ${msg.nonce}: ${path}: ${what}`);
  };
  if (typeof msg.version !== "string") fail("version", "must be a string");
  if (typeof msg.types !== "object" || msg.types === null) fail("types", "must be an object");
  for (const [type, d] of Object.entries(msg.types)) {
    if (!TYPES.has(type)) fail(`types.${type}`, `unknown resource type (known: ${RESOURCE_TYPES.join(", ")})`);
    if (typeof d !== "object" || d === null || !Array.isArray(d.resources) || !Array.isArray(d.removed)) fail(`types.${type}`, "needs resources[] and removed[]");
    d.resources.forEach((r, i) => {
      if (typeof r?.name !== "string" || r.name === "") fail(`types.${type}.resources[${i}].name`, "must be a non-empty string");
      if (typeof r.version !== "string") fail(`types.${type}.resources[${i}].version`, "must be a string");
    });
    d.removed.forEach((n, i) => {
      if (typeof n !== "string") fail(`types.${type}.removed[${i}]`, "must be a string");
    });
  }
}
