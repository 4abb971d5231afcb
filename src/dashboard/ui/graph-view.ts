// The graph view: the service graph drawn with Cytoscape.js (versions boxed per app, positions
// from graph-elements.ts's layered layout so refreshes move nothing), traffic dots animated on a
// canvas over it (traffic-dots.ts), namespace and time-window filters, and the same edges as a
// table (rates, error rate, p95, protocol, mTLS, a link to the edge's traces; TCP edges show
// connections/s and bytes/s).
import cytoscape from "cytoscape";
import type { Graph } from "../../control-plane/telemetry/graph.ts";
import { COLOURS, fmtBytesRate, graphElements, namespacesOf, type EdgeElement, type GraphElements, type NodeElement } from "../shape/graph-elements.ts";
import { along, dotPositions, phaseOf } from "../shape/traffic-dots.ts";
import type { LiveGraph } from "./live-graph.ts";
import { fmtMs, fmtNum, fmtPct, h, hashOf } from "./dom.ts";

const WINDOWS = ["30s", "1m", "5m", "15m", "1h"];

/** A padlock icon (mTLS), drawn rather than an emoji: not every system has an emoji font. */
function padlock(): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 12 14");
  svg.setAttribute("width", "11");
  svg.setAttribute("height", "13");
  svg.setAttribute("aria-label", "mTLS");
  svg.innerHTML = '<rect x="1" y="6" width="10" height="8" rx="1" fill="#c7c7c7"/><path d="M3 6V4a3 3 0 0 1 6 0v2" stroke="#c7c7c7" stroke-width="1.6" fill="none"/>';
  return svg;
}

const STYLE = [
  { selector: "node", style: { label: "data(label)", color: "#e8e8e8", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, "background-color": "data(colour)", "border-width": 2, "border-color": "#111", width: 26, height: 26 } },
  { selector: 'node[kind = "service"]', style: { shape: "triangle", width: 30, height: 26 } },
  { selector: 'node[kind = "unknown"]', style: { shape: "diamond" } },
  { selector: 'node[health = "failing"]', style: { "border-color": COLOURS.failing, "border-width": 4 } },
  { selector: 'node[health = "degraded"]', style: { "border-color": COLOURS.degraded, "border-width": 3 } },
  { selector: 'node[kind = "app"]', style: { shape: "round-rectangle", "background-color": "#262626", "background-opacity": 0.9, "border-color": "#555", "border-width": 1, "text-valign": "top", "text-margin-y": -4, label: "data(label)", padding: 10 } },
  { selector: "edge", style: { width: "data(width)", "line-color": "data(colour)", "target-arrow-color": "data(colour)", "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 9, color: "#cfcfcf", "text-background-color": "#151515", "text-background-opacity": 0.8, "text-background-padding": 2, "text-rotation": "autorotate", opacity: 0.85 } },
  { selector: ":selected", style: { "overlay-color": "#73bcf7", "overlay-opacity": 0.25 } },
];

/** `reviews.default` (Zipkin's serviceName) for a node: service hosts and app versions alike. */
function zipkinName(n: NodeElement["data"] | undefined): string | undefined {
  if (n === undefined || n.kind === "unknown") return undefined;
  if (n.kind === "service") return n.name.split(".").slice(0, 2).join(".");
  return `${n.name}.${n.namespace}`;
}

function detailHash(n: NodeElement["data"], window: string): string | null {
  if (n.kind === "service") return hashOf("detail", { service: n.name, window });
  if (n.kind === "version") return hashOf("detail", { namespace: n.namespace, app: n.name, version: n.version, window });
  if (n.kind === "app") return hashOf("detail", { namespace: n.namespace, app: n.name, window });
  return null;
}

export function showGraph(view: HTMLElement, params: URLSearchParams, live: LiveGraph): () => void {
  let namespace = params.get("namespace") ?? "";
  const window0 = params.get("window") || live.window || "1m";
  const nsSelect = h("select", { id: "namespace", "aria-label": "namespace", onchange: () => {
    namespace = nsSelect.value;
    location.hash = hashOf("graph", { namespace, window: winSelect.value });
  } }, h("option", { value: "" }, "all namespaces"));
  const winSelect = h("select", { id: "window", "aria-label": "time window", onchange: () => (location.hash = hashOf("graph", { namespace, window: winSelect.value })) },
    WINDOWS.map((w) => h("option", { value: w, selected: w === window0 }, `last ${w}`)));
  const legend = h("span", { class: "legend" }, h("i", { style: `background:${COLOURS.healthy}` }), "no errors", h("i", { style: `background:${COLOURS.degraded}` }), "errors", h("i", { style: `background:${COLOURS.failing}` }), "≥ 10 % errors", h("i", { style: `background:${COLOURS.none}` }), "idle", " · ", padlock(), " mutual TLS · moving dots: request rate (TCP: connections or bytes)");
  const container = h("div", { id: "cy" });
  const canvas = h("canvas", { id: "dots" });
  const empty = h("p", { class: "legend", id: "graph-empty" }, "Waiting for traffic: the control plane scrapes every sidecar every few seconds.");
  const tbody = h("tbody");
  view.append(
    h("div", { class: "toolbar" }, h("label", {}, "Namespace ", nsSelect), h("label", {}, "Window ", winSelect), legend),
    h("div", { class: "graph-wrap" }, container, canvas),
    empty,
    h("h3", {}, "Edges"),
    h("table", { id: "edges" }, h("thead", {}, h("tr", {}, ["From", "To", "Protocol", "mTLS", "Rate", "Errors", "Bytes/s", "P50", "P95", "P99", ""].map((t) => h("th", {}, t)))), tbody),
  );

  const cy = cytoscape({ container, elements: [], style: STYLE as unknown as cytoscape.StylesheetJson, layout: { name: "preset" }, minZoom: 0.2, maxZoom: 3, wheelSensitivity: 0.3 });
  (window as unknown as { __amime: unknown }).__amime = { cy };
  cy.on("tap", "node", (e) => {
    const to = detailHash(e.target.data() as NodeElement["data"], winSelect.value);
    if (to !== null) location.hash = to;
  });
  cy.on("tap", "edge", (e) => {
    const d = e.target.data() as EdgeElement["data"];
    if (d.cps !== null) return; // a TCP edge: no spans
    const target = zipkinName(cy.getElementById(d.target).data() as NodeElement["data"] | undefined);
    if (target !== undefined) location.hash = hashOf("traces", { service: target });
  });

  let shape = "";
  let fitted = false;
  let current: GraphElements = { nodes: [], edges: [] };
  const update = (g: Graph): void => {
    const names = namespacesOf(g);
    const have = Array.from(nsSelect.options).map((o) => o.value).slice(1);
    if (names.join() !== have.join()) {
      nsSelect.replaceChildren(h("option", { value: "" }, "all namespaces"), ...names.map((n) => h("option", { value: n, selected: n === namespace }, n)));
    }
    current = graphElements(g, namespace === "" ? null : namespace);
    empty.hidden = current.edges.length > 0;
    const ids = [...current.nodes.map((n) => n.data.id), ...current.edges.map((e) => e.data.id)].sort().join("\n");
    cy.batch(() => {
      const keep = new Set([...current.nodes.map((n) => n.data.id), ...current.edges.map((e) => e.data.id)]);
      cy.elements().filter((el) => !keep.has(el.id())).remove();
      for (const n of current.nodes) {
        const el = cy.getElementById(n.data.id);
        if (el.empty()) cy.add({ group: "nodes", data: n.data, ...(n.position ? { position: n.position } : {}) });
        else el.data(n.data);
      }
      for (const e of current.edges) {
        const el = cy.getElementById(e.data.id);
        if (el.empty()) cy.add({ group: "edges", data: e.data });
        else el.data(e.data);
      }
      // Positions change only when the set of nodes and edges does (a new service or caller).
      if (ids !== shape) for (const n of current.nodes) if (n.position) cy.getElementById(n.data.id).position(n.position);
    });
    if (ids !== shape && current.nodes.length > 0 && (!fitted || ids.split("\n").length !== shape.split("\n").length)) {
      cy.fit(undefined, 40);
      fitted = true;
    }
    shape = ids;
    renderTable();
  };

  const renderTable = (): void => {
    const label = (id: string): string => {
      const d = cy.getElementById(id).data() as NodeElement["data"] | undefined;
      if (d === undefined) return id;
      return d.kind === "version" ? `${d.name} ${d.version}` : d.kind === "service" ? `${d.label} (service)` : d.label;
    };
    tbody.replaceChildren(
      ...current.edges.map((e) => {
        const d = e.data;
        const tcp = d.cps !== null;
        // TCP connections leave no spans: no traces link.
        const traces = tcp ? undefined : zipkinName(cy.getElementById(d.target).data() as NodeElement["data"] | undefined);
        return h("tr", { "data-edge": d.id, "data-source": d.source, "data-target": d.target, "data-protocol": d.protocol, "data-rps": d.rps, "data-cps": d.cps ?? "", "data-bps": d.bps ?? "", "data-error-rate": d.errorRate, "data-colour": d.colour, "data-health": d.health },
          h("td", {}, label(d.source)),
          h("td", {}, h("span", { class: "swatch", style: `background:${d.colour}` }), label(d.target)),
          h("td", {}, d.protocol),
          h("td", { "data-mtls": d.mtls }, d.mtls ? padlock() : ""),
          h("td", { class: "num" }, tcp ? `${fmtNum(d.cps)} conn/s` : `${fmtNum(d.rps)} rps`),
          h("td", { class: "num" }, tcp ? "-" : fmtPct(d.errorRate)),
          h("td", { class: "num" }, d.bps === null ? "-" : fmtBytesRate(d.bps)),
          h("td", { class: "num" }, fmtMs(d.p50)),
          h("td", { class: "num" }, fmtMs(d.p95)),
          h("td", { class: "num" }, fmtMs(d.p99)),
          h("td", {}, traces ? h("a", { href: hashOf("traces", { service: traces }) }, "traces") : "",
            traces && d.p95 !== null ? " · " : "",
            traces && d.p95 !== null ? h("a", { class: "slow", href: hashOf("traces", { service: traces, minDuration: String(Math.floor(d.p95)) }), title: "the traces at or above this edge's p95" }, "slow") : ""),
        );
      }),
    );
  };

  // Traffic: dots along every edge, redrawn each animation frame over the graph.
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  const scratch: number[] = [];
  let frame = 0;
  const draw = (now: number): void => {
    const w = container.clientWidth;
    const hgt = container.clientHeight;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== w * ratio || canvas.height !== hgt * ratio) {
      canvas.width = w * ratio;
      canvas.height = hgt * ratio;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    const r = Math.max(1.5, 2.5 * Math.min(1.2, cy.zoom()));
    cy.edges().forEach((edge) => {
      const d = edge.data() as EdgeElement["data"];
      const pts = dotPositions(d.dotRate, now, phaseOf(d.id), scratch);
      if (pts.length === 0) return;
      const a = edge.renderedSourceEndpoint();
      const b = edge.renderedTargetEndpoint();
      ctx.fillStyle = d.health === "healthy" ? "#d2f5c8" : d.colour;
      for (const t of pts) {
        const p = along(a, b, t);
        ctx.beginPath();
        ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
        ctx.fill();
      }
    });
    frame = requestAnimationFrame(draw);
  };
  frame = requestAnimationFrame(draw);

  const unsubscribe = live.subscribe(update);
  return () => {
    unsubscribe();
    cancelAnimationFrame(frame);
    cy.destroy();
  };
}
