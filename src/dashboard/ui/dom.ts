// Small DOM helpers for the dashboard's views (browser code: no node:* imports).

type Child = Node | string | number | null | undefined | false;

/** `h("td", {class: "num"}, "1.2")`: an element with attributes (`on*` functions become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, unknown> = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(typeof c === "number" ? String(c) : c);
  return el;
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: "application/json" } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

export async function postJson<T>(url: string, body: string, type = "application/json"): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": type, accept: "application/json" }, body });
  const out = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(out.error ?? `HTTP ${res.status}`);
  return out;
}

export const fmtNum = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? "-" : v.toFixed(digits));
export const fmtPct = (v: number | null | undefined): string => (v === null || v === undefined ? "-" : `${(v * 100).toFixed(1)}%`);
export const fmtMs = (v: number | null | undefined): string => (v === null || v === undefined ? "-" : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);
export const fmtUs = (us: number): string => (us >= 1_000_000 ? `${(us / 1_000_000).toFixed(2)} s` : us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us} µs`);

/** Route parameters from `#/view?x=1`. */
export function routeOf(hash: string): { view: string; arg: string; params: URLSearchParams } {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const [view = "graph", arg = ""] = path.split("/");
  return { view: view || "graph", arg: decodeURIComponent(arg), params: new URLSearchParams(query) };
}

export function hashOf(view: string, params: Record<string, string | undefined>, arg?: string): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ""}${s ? `?${s}` : ""}`;
}
