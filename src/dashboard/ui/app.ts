// The dashboard's entry: one live event stream from the control plane (server-sent events: the
// graph every few seconds, the config version and proxy sync), a hash router and four views.
// No page reloads: views subscribe to the stream and redraw.
import type { Graph } from "../../control-plane/telemetry/graph.ts";
import { routeOf } from "./dom.ts";
import { showConfig } from "./config-view.ts";
import { showDetail } from "./detail-view.ts";
import { showGraph } from "./graph-view.ts";
import type { LiveGraph } from "./live-graph.ts";
import { showTrace, showTraces } from "./traces-view.ts";

export interface LiveStatus {
  version: string;
  resources: number;
  proxies: number;
  synced: number;
  at: number;
}

type Listener = (g: Graph) => void;

/** The shared event stream; `window` changes reconnect it. */
export class Live implements LiveGraph {
  #source: EventSource | null = null;
  #window = "";
  readonly #listeners = new Set<Listener>();
  last: Graph | null = null;

  connect(window: string): void {
    if (window === this.#window && this.#source !== null) return;
    this.#source?.close();
    this.#window = window;
    this.last = null;
    const es = new EventSource(`/dashboard/api/events?window=${encodeURIComponent(window)}`);
    es.addEventListener("graph", (e) => {
      this.last = JSON.parse((e as MessageEvent<string>).data) as Graph;
      for (const l of this.#listeners) l(this.last);
    });
    es.addEventListener("status", (e) => {
      const s = JSON.parse((e as MessageEvent<string>).data) as LiveStatus;
      const el = document.getElementById("status");
      if (el) el.textContent = `config ${s.version} · ${s.resources} resources · proxies ${s.synced}/${s.proxies} synced · ${new Date(s.at).toLocaleTimeString()}`;
    });
    es.onerror = () => {
      const el = document.getElementById("status");
      if (el) el.textContent = "reconnecting…";
    };
    this.#source = es;
  }

  get window(): string {
    return this.#window;
  }

  /** Call `l` on every graph from now on; returns the unsubscribe function. */
  subscribe(l: Listener): () => void {
    this.#listeners.add(l);
    if (this.last !== null) l(this.last);
    return () => this.#listeners.delete(l);
  }
}

const live = new Live();
let cleanup: (() => void) | null = null;

function render(): void {
  cleanup?.();
  cleanup = null;
  const view = document.getElementById("view") as HTMLElement;
  view.replaceChildren();
  const r = routeOf(location.hash);
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>("header nav a"))) a.classList.toggle("active", a.dataset.nav === (r.view === "detail" ? "graph" : r.view === "trace" ? "traces" : r.view));
  live.connect(r.params.get("window") || live.window || "1m");
  switch (r.view) {
    case "detail":
      cleanup = showDetail(view, r.params, live);
      break;
    case "traces":
      cleanup = showTraces(view, r.params);
      break;
    case "trace":
      cleanup = showTrace(view, r.arg);
      break;
    case "config":
      cleanup = showConfig(view);
      break;
    default:
      cleanup = showGraph(view, r.params, live);
  }
}

window.addEventListener("hashchange", render);
live.connect("1m");
render();
