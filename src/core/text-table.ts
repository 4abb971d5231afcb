// Plain-text tables in kubectl's shape: upper-case headers, columns padded and separated by three
// spaces, no trailing blanks, empty cells shown as `<none>` where the caller says so.

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("   ").trimEnd();
  return `${[line(headers), ...rows.map((r) => line(headers.map((_, i) => r[i] ?? "")))].join("\n")}\n`;
}

/** `a,b,c`, or `<none>` for an empty list (kubectl's placeholder). */
export function list(values: readonly string[] | undefined, none = "<none>"): string {
  return values && values.length > 0 ? values.join(",") : none;
}

/** `k=v,k2=v2`, or `<none>`. */
export function labels(map: Readonly<Record<string, string>> | undefined, none = "<none>"): string {
  const entries = Object.entries(map ?? {});
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join(",") : none;
}
