// Traces: search the control plane's Zipkin store by service, operation, minimum duration and
// tags (Zipkin's annotationQuery), list the hits, and show one trace as a waterfall with a row
// per span from every hop.
import type { StoredSpan } from "../../control-plane/telemetry/span-store.ts";
import { summarize, waterfall } from "../shape/waterfall.ts";
import { fmtUs, getJson, h, hashOf } from "./dom.ts";

export function showTraces(view: HTMLElement, params: URLSearchParams): () => void {
  const service = h("select", { id: "trace-service", name: "service" }, h("option", { value: "" }, "any service"));
  const operation = h("select", { id: "trace-operation", name: "operation" }, h("option", { value: "" }, "all operations"));
  const minMs = h("input", { id: "trace-min", name: "minDuration", size: 6, placeholder: "ms", value: params.get("minDuration") ?? "" });
  const tags = h("input", { id: "trace-tags", name: "tags", size: 32, placeholder: "http.status_code=500 and error", value: params.get("tags") ?? "" });
  const lookback = h("select", { id: "trace-lookback" }, ["5m", "15m", "1h", "24h"].map((v) => h("option", { value: v, selected: v === (params.get("lookback") ?? "1h") }, `last ${v}`)));
  const results = h("div", { id: "trace-results" }, "searching…");
  const submit = (ev?: Event): void => {
    ev?.preventDefault();
    location.hash = hashOf("traces", { service: service.value, operation: operation.value, minDuration: minMs.value, tags: tags.value, lookback: lookback.value });
  };
  view.append(
    h("form", { class: "toolbar", onsubmit: submit }, h("label", {}, "Service ", service), h("label", {}, "Operation ", operation), h("label", {}, "Min duration ", minMs, " ms"), h("label", {}, "Tags ", tags), lookback, h("button", { type: "submit" }, "Search")),
    results,
  );
  const wanted = params.get("service") ?? "";
  void getJson<string[]>("/api/v2/services").then((names) => {
    for (const n of [...new Set([...names, ...(wanted ? [wanted] : [])])].sort()) service.append(h("option", { value: n, selected: n === wanted }, n));
  });
  const loadOps = (): void => {
    operation.replaceChildren(h("option", { value: "" }, "all operations"));
    if (service.value === "") return;
    void getJson<string[]>(`/api/v2/spans?serviceName=${encodeURIComponent(service.value)}`).then((ops) => {
      for (const o of ops) operation.append(h("option", { value: o, selected: o === params.get("operation") }, o));
    });
  };
  service.addEventListener("change", loadOps);
  if (wanted) {
    service.value = wanted;
    loadOps();
  }
  const q = new URLSearchParams({ limit: "20" });
  if (wanted) q.set("serviceName", wanted);
  if (params.get("operation")) q.set("spanName", params.get("operation") as string);
  const min = Number(params.get("minDuration") ?? "");
  if (min > 0) q.set("minDuration", String(Math.round(min * 1000)));
  if (params.get("tags")) q.set("annotationQuery", params.get("tags") as string);
  const lb = { "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "24h": 86_400_000 }[params.get("lookback") ?? "1h"] ?? 3_600_000;
  // From a chart point: the traces of one moment (end, and how far back), in ms.
  const end = Number(params.get("end") ?? "");
  const span = Number(params.get("span") ?? "");
  if (end > 0 && span > 0) {
    q.set("endTs", String(Math.round(end)));
    q.set("lookback", String(Math.round(span)));
    results.before(h("p", { class: "legend", id: "trace-moment" }, `Traces from ${new Date(end - span).toLocaleTimeString()} to ${new Date(end).toLocaleTimeString()} (a chart point). `, h("a", { href: hashOf("traces", { service: wanted }) }, "all")));
  } else q.set("lookback", String(lb));
  void getJson<StoredSpan[][]>(`/api/v2/traces?${q.toString()}`).then(
    (traces) => {
      if (traces.length === 0) return void results.replaceChildren(h("p", { class: "legend" }, "No traces match."));
      results.replaceChildren(
        h("table", { id: "traces" }, h("thead", {}, h("tr", {}, ["Start", "Root", "Services", "Spans", "Duration", "Errors"].map((t) => h("th", {}, t)))),
          h("tbody", {}, traces.map((t) => {
            const s = summarize(t);
            return h("tr", { "data-trace": s.traceId, "data-services": s.services.length },
              h("td", {}, new Date(s.startUs / 1000).toLocaleTimeString()),
              h("td", {}, h("a", { href: hashOf("trace", {}, s.traceId) }, s.root || s.traceId)),
              h("td", {}, s.services.map((x) => h("span", { class: "badge" }, x))),
              h("td", { class: "num" }, s.spans),
              h("td", { class: "num" }, fmtUs(s.durationUs)),
              h("td", { class: s.errors > 0 ? "num msg-error" : "num" }, s.errors));
          }))),
      );
    },
    (e: Error) => results.replaceChildren(h("p", { class: "error-box" }, e.message)),
  );
  return () => {};
}

export function showTrace(view: HTMLElement, id: string): () => void {
  const box = h("div", {}, "loading…");
  view.append(h("div", { class: "toolbar" }, h("a", { href: "#/traces" }, "← traces"), h("h2", { style: "margin:0" }, `Trace ${id}`)), box);
  void getJson<StoredSpan[]>(`/api/v2/trace/${encodeURIComponent(id)}`).then(
    (spans) => {
      const w = waterfall(spans);
      const detail = h("pre", { id: "span-detail" }, "Click a span for its tags.");
      box.replaceChildren(
        h("p", {}, `${w.rows.length} spans · ${w.services.length} services · ${fmtUs(w.durationUs)} · `, ...w.services.map((s) => h("span", { class: "badge" }, s))),
        h("div", { class: "waterfall", id: "waterfall", "data-services": w.services.join(",") },
          w.rows.map((r) => h("div", { class: "row", "data-service": r.service, onclick: () => (detail.textContent = `${r.service} ${r.kind} ${r.name}\n${fmtUs(r.durationUs)} at +${fmtUs(r.startUs)}\n\n${Object.entries(r.tags).map(([k, v]) => `${k} = ${v}`).join("\n")}`) },
            h("div", { class: "label", style: `padding-left:${r.depth * 1.2}em`, title: `${r.service} ${r.name}` }, `${r.service} `, h("span", { class: "legend" }, `${r.kind.toLowerCase()} ${r.name}`)),
            h("div", { class: "track" }, h("div", { class: r.error ? "bar error" : "bar", style: `left:${r.leftPct}%;width:${r.widthPct}%` }), h("span", { class: "dur", style: `left:calc(${Math.min(r.leftPct + r.widthPct, 90)}% + 4px)` }, fmtUs(r.durationUs)))))),
        detail,
      );
    },
    (e: Error) => box.replaceChildren(h("p", { class: "error-box" }, e.message)),
  );
  return () => {};
}
