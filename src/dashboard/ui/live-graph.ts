// What a view reads of the dashboard's live event stream (app.ts's Live): the time window it
// follows and every graph as it arrives. A narrow view, so the views do not import the entry.
import type { Graph } from "../../control-plane/telemetry/graph.ts";

export interface LiveGraph {
  readonly window: string;
  /** Call `l` on every graph from now on; returns the unsubscribe function. */
  subscribe(l: (g: Graph) => void): () => void;
}
