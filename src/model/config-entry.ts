// ConfigEntry: one Istio resource as the snapshot keeps it (snapshot.ts), typed by its spec, with
// the source positions of its fields. Pure data.
import type { SourcePosition } from "./diagnostic.ts";
import type { FieldPath } from "./resource.ts";

/** One Istio resource as the snapshot keeps it. */
export interface ConfigEntry<S> {
  kind: string;
  name: string;
  /** Defaults to "default". */
  namespace: string;
  /** `VirtualService default/reviews` */
  id: string;
  labels: Readonly<Record<string, string>>;
  /** metadata.annotations (e.g. `amime.dev/health-check`); absent when none. */
  annotations?: Readonly<Record<string, string>>;
  spec: S;
  source: SourcePosition;
  /** Source position of a field of the original document (e.g. ["spec", "http", 0]). */
  positionOf(path: FieldPath): SourcePosition;
}
