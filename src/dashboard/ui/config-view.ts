// Config: every resource in force with its analyze messages (file:line), the last refused
// changes, and a dry run — paste YAML, see the analyzers' verdict and what each proxy would
// receive differently, without applying anything.
import type { Diagnostic } from "../../model/diagnostic.ts";
import type { JsonChange } from "../shape/json-diff.ts";
import { getJson, h, postJson } from "./dom.ts";

interface ConfigView {
  version: string;
  refused: { source: string; at: string; diagnostics: Diagnostic[] }[];
  rows: { kind: string; namespace: string; name: string; source: { file: string; line: number }; diagnostics: Diagnostic[] }[];
  other: Diagnostic[];
}

interface DryRunResult {
  applied: boolean;
  changes: { resource: string; action: string }[];
  diagnostics: Diagnostic[];
  proxies: { node: string; changes: JsonChange[] }[];
}

const where = (d: Diagnostic): string => (d.source.file ? `${d.source.file}${d.source.line ? `:${d.source.line}` : ""}` : "");
const message = (d: Diagnostic): HTMLElement => h("div", { class: `msg-${d.level}` }, `${d.level.toUpperCase()} [${d.code}] ${where(d)} ${d.path ? `${d.path}: ` : ""}${d.message}`);
const short = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? "∅" : s.length > 160 ? `${s.slice(0, 157)}…` : s;
};

export function showConfig(view: HTMLElement): () => void {
  const list = h("div", {}, "loading…");
  const text = h("textarea", { id: "dry-run-yaml", placeholder: "apiVersion: networking.istio.io/v1\nkind: VirtualService\n…", spellcheck: "false" });
  const out = h("div", { id: "dry-run-out" });
  const run = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    out.replaceChildren("checking…");
    try {
      const r = await postJson<DryRunResult>("/dashboard/api/dry-run", text.value, "text/yaml");
      const accepted = !r.diagnostics.some((d) => d.level === "error");
      out.replaceChildren(
        h("p", { class: accepted ? "" : "msg-error", id: "dry-run-verdict" }, accepted ? `Would be accepted: ${r.changes.map((c) => `${c.resource} ${c.action}`).join(", ") || "no change"}. Nothing was applied.` : "Would be refused (nothing changes):"),
        ...r.diagnostics.map(message),
        ...r.proxies.map((p) => h("details", { open: true, "data-node": p.node }, h("summary", {}, `${p.node}: ${p.changes.length} change(s)`),
          h("table", {}, h("tbody", {}, p.changes.map((c) => h("tr", {}, h("td", {}, c.op), h("td", {}, h("code", {}, c.path)), h("td", {}, c.op === "added" ? "" : short(c.before)), h("td", {}, c.op === "removed" ? "" : short(c.after)))))))),
        accepted && r.proxies.length === 0 ? h("p", { class: "legend" }, "No proxy's config would change.") : "",
      );
    } catch (e) {
      out.replaceChildren(h("p", { class: "error-box" }, (e as Error).message));
    }
  };
  view.append(h("h2", {}, "Config"), list, h("h3", {}, "Dry run of an apply"), h("form", { onsubmit: run }, text, h("button", { type: "submit", id: "dry-run" }, "Dry run")), out);
  void getJson<ConfigView>("/dashboard/api/config").then(
    (c) => list.replaceChildren(
      h("p", {}, `Config version ${c.version}: ${c.rows.length} resources, ${c.rows.reduce((n, r) => n + r.diagnostics.length, 0) + c.other.length} analyze messages.`),
      ...c.refused.map((r) => h("div", { class: "msg-error" }, `Last refused change from ${r.source} at ${r.at}:`, ...r.diagnostics.map(message))),
      h("table", { id: "resources" }, h("thead", {}, h("tr", {}, ["Kind", "Namespace", "Name", "Source", "Messages"].map((t) => h("th", {}, t)))),
        h("tbody", {}, c.rows.map((r) => h("tr", { "data-resource": `${r.kind} ${r.namespace}/${r.name}` }, h("td", {}, r.kind), h("td", {}, r.namespace), h("td", {}, r.name), h("td", {}, `${r.source.file}:${r.source.line}`), h("td", {}, r.diagnostics.map(message)))))),
      ...c.other.map(message),
    ),
    (e: Error) => list.replaceChildren(h("p", { class: "error-box" }, e.message)),
  );
  return () => {};
}
