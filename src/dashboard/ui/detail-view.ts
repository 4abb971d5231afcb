// A service's or workload's page: golden signals now (per version), charts over the window
// (uPlot: inbound by version and by response code, outbound by destination and by code; the
// metric chosen above them), its instances with their proxies' sync status, the config that
// applies with its analyze messages, and `explain` for a typed URL from one of its proxies.
import uPlot from "uplot";
import type { ServiceRow } from "../../control-plane/telemetry/graph.ts";
import type { Diagnostic } from "../../model/diagnostic.ts";
import type { ProxyStatus } from "../../model/wire.ts";
import type { Chart, DetailCharts } from "../server/charts.ts";
import type { LiveGraph } from "./live-graph.ts";
import { fmtMs, fmtNum, fmtPct, getJson, h, hashOf, postJson } from "./dom.ts";

interface Detail {
  subject: { service: string | null; namespace: string; app: string | null; version: string | null };
  stepMs: number;
  rows: ServiceRow[];
  instances: { name: string; workload: string; node: string; version: string; ready: boolean; proxy: ProxyStatus | null }[];
  config: { kind: string; namespace: string; name: string; source: { file: string; line: number }; why: string; diagnostics: Diagnostic[] }[];
  charts: DetailCharts;
}

const METRICS = { rps: "requests / s", errorRate: "error rate", p50: "p50 latency (ms)", p95: "p95 latency (ms)", p99: "p99 latency (ms)" } as const;
type Metric = keyof typeof METRICS;
const PALETTE = ["#73bcf7", "#f4b678", "#7cdbf3", "#bde5b8", "#c9190b", "#a18fff", "#f0ab00", "#5ba352", "#ec7a08", "#8a8d90"];

/** Clicking a chart at a time opens the traces of `zipkinService` around that step. */
interface TraceLink {
  zipkinService: string;
  stepMs: number;
}

function chartBox(title: string, c: Chart, metric: Metric, width: number, link: TraceLink): HTMLElement {
  const box = h("div", { class: "chart", "data-chart": title, "data-series": c.series.map((s) => s.label).join(",") }, h("h4", {}, title));
  if (c.times.length === 0) {
    box.append(h("p", { class: "legend" }, "no traffic in the window"));
    return box;
  }
  const opts: uPlot.Options = {
    width,
    height: 200,
    scales: { x: { time: true } },
    axes: [{ stroke: "#9a9a9a", grid: { stroke: "#2a2a2a" } }, { stroke: "#9a9a9a", grid: { stroke: "#2a2a2a" }, size: 60 }],
    series: [{}, ...c.series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false }))],
    legend: { live: false },
  };
  const data: uPlot.AlignedData = [c.times, ...c.series.map((s) => s[metric])] as uPlot.AlignedData;
  const u = new uPlot(opts, data, box);
  u.over.title = "click: the traces of this moment";
  u.over.style.cursor = "pointer";
  u.over.addEventListener("click", () => {
    const i = u.cursor.idx;
    const t = i === null || i === undefined ? undefined : c.times[i];
    if (t === undefined) return;
    // A point sums the scrapes of its step; its requests happened within a step before them.
    location.hash = hashOf("traces", { service: link.zipkinService, end: String(t * 1000 + link.stepMs), span: String(2 * link.stepMs) });
  });
  return box;
}

export function showDetail(view: HTMLElement, params: URLSearchParams, live: LiveGraph): () => void {
  const q = new URLSearchParams(params);
  q.set("window", params.get("window") || live.window || "1m");
  let metric: Metric = (params.get("metric") as Metric | null) ?? "rps";
  const head = h("div");
  const body = h("div");
  view.append(head, body);
  let explainText = "";
  let inFlight = false;

  const load = async (): Promise<void> => {
    if (inFlight) return;
    inFlight = true;
    try {
      const d = await getJson<Detail>(`/dashboard/api/detail?${q.toString()}`);
      render(d);
    } catch (e) {
      body.replaceChildren(h("p", { class: "error-box" }, (e as Error).message));
    } finally {
      inFlight = false;
    }
  };

  const render = (d: Detail): void => {
    const s = d.subject;
    const title = s.service !== null ? `Service ${s.service}` : `Workload ${s.app}${s.version ? ` ${s.version}` : ""} (${s.namespace})`;
    const metricSelect = h("select", { id: "metric", onchange: () => { metric = metricSelect.value as Metric; render(d); } },
      Object.entries(METRICS).map(([k, v]) => h("option", { value: k, selected: k === metric }, v)));
    head.replaceChildren(h("div", { class: "toolbar" }, h("a", { href: hashOf("graph", { window: q.get("window") ?? undefined }) }, "← graph"), h("h2", { style: "margin:0" }, title), h("label", {}, "Charts: ", metricSelect),
      h("a", { href: hashOf("traces", { service: s.service !== null ? s.service.split(".").slice(0, 2).join(".") : `${s.app}.${s.namespace}` }) }, "traces")));
    const width = Math.max(480, Math.floor((view.clientWidth - 48) / 2));
    const link: TraceLink = { zipkinService: s.service !== null ? s.service.split(".").slice(0, 2).join(".") : `${s.app}.${s.namespace}`, stepMs: d.stepMs };
    const nodes = d.instances.map((i) => i.node);
    const nodeSelect = h("select", { id: "explain-node" }, nodes.map((n) => h("option", { value: n }, n)));
    const urlInput = h("input", { id: "explain-url", size: 48, placeholder: "http://reviews:9080/reviews/0", value: "" });
    const methodInput = h("input", { id: "explain-method", size: 6, value: "GET" });
    const out = h("pre", { id: "explain-out" }, explainText);
    const runExplain = async (ev: Event): Promise<void> => {
      ev.preventDefault();
      try {
        const r = await postJson<{ text: string }>("/dashboard/api/explain", JSON.stringify({ node: nodeSelect.value, url: urlInput.value, method: methodInput.value }));
        explainText = r.text;
      } catch (e) {
        explainText = `error: ${(e as Error).message}`;
      }
      out.textContent = explainText;
    };
    body.replaceChildren(
      h("h3", {}, "Golden signals"),
      h("table", { id: "signals" }, h("thead", {}, h("tr", {}, ["Service", "Version", "Workload", "RPS", "Errors", "P50", "P95", "P99"].map((t) => h("th", {}, t)))),
        h("tbody", {}, d.rows.map((r) => h("tr", {}, h("td", {}, r.service), h("td", {}, r.version), h("td", {}, r.workload), h("td", { class: "num" }, fmtNum(r.rps)), h("td", { class: "num" }, fmtPct(r.errorRate)), h("td", { class: "num" }, fmtMs(r.p50)), h("td", { class: "num" }, fmtMs(r.p95)), h("td", { class: "num" }, fmtMs(r.p99)))))),
      h("div", { class: "charts" },
        chartBox("Inbound by version", d.charts.inboundByVersion, metric, width, link),
        chartBox("Inbound by response code", d.charts.inboundByCode, metric, width, link),
        chartBox("Outbound by destination", d.charts.outboundByDestination, metric, width, link),
        chartBox("Outbound by response code", d.charts.outboundByCode, metric, width, link)),
      h("h3", {}, "Instances"),
      h("table", { id: "instances" }, h("thead", {}, h("tr", {}, ["Instance", "Version", "Ready", "Proxy", "Sync", "Sent", "ACKed"].map((t) => h("th", {}, t)))),
        h("tbody", {}, d.instances.map((i) => h("tr", {}, h("td", {}, i.name), h("td", {}, i.version), h("td", {}, i.ready ? "yes" : "no"), h("td", {}, i.node),
          h("td", { class: `state-${i.proxy?.state ?? ""}` }, i.proxy === null ? "not connected" : `${i.proxy.state}${i.proxy.error ? `: ${i.proxy.error}` : ""}`),
          h("td", {}, i.proxy?.sentVersion ?? "-"), h("td", {}, i.proxy?.ackedVersion ?? "-"))))),
      h("h3", {}, "Config that applies"),
      d.config.length === 0 ? h("p", { class: "legend" }, "No VirtualService, DestinationRule or policy selects it.") :
        h("table", { id: "applied" }, h("thead", {}, h("tr", {}, ["Resource", "Source", "Why", "Messages"].map((t) => h("th", {}, t)))),
          h("tbody", {}, d.config.map((c) => h("tr", {}, h("td", {}, `${c.kind} ${c.namespace}/${c.name}`), h("td", {}, `${c.source.file}:${c.source.line}`), h("td", {}, c.why),
            h("td", {}, c.diagnostics.map((m) => h("div", { class: `msg-${m.level}` }, `${m.level.toUpperCase()} [${m.code}] ${m.path ? `${m.path}: ` : ""}${m.message}`))))))),
      h("h3", {}, "Explain a request"),
      nodes.length === 0 ? h("p", { class: "legend" }, "No proxy to explain from.") :
        h("form", { class: "toolbar", onsubmit: runExplain }, h("label", {}, "From ", nodeSelect), methodInput, urlInput, h("button", { type: "submit" }, "Explain")),
      out,
    );
  };

  void load();
  // Live: refresh with the graph stream, at most every 5 s.
  let last = Date.now();
  const unsubscribe = live.subscribe(() => {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    if (document.activeElement?.id?.startsWith("explain")) return;
    void load();
  });
  return unsubscribe;
}
