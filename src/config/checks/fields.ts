// Unknown-field detection with "did you mean" suggestions.
//
// Istio's CRD schema rejects unknown fields. We only WARN: an unknown field may be one that a
// newer Istio added and we do not know yet, and refusing a whole config for it would block users
// who share YAML with a newer control plane. The warning names the closest known field, so a typo
// (`tiemout`) is still caught at a glance.
import { Codes } from "../../model/diagnostic.ts";
import type { FieldPath, JsonObject } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";

/** Warn about each key of `obj` that is not in `known`. */
export function checkKnownFields(v: Validator, path: FieldPath, obj: JsonObject, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const guess = suggestField(key, known);
    v.warn([...path, key], `unknown field '${key}'${guess ? `, did you mean '${guess}'?` : ""}`, Codes.unknownField);
  }
}

/** The known name closest to `key`, if close enough to be a likely typo (or a snake_case/case variant). */
export function suggestField(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string): string => s.replace(/[_-]/g, "").toLowerCase();
  const exact = known.find((k) => norm(k) === norm(key));
  if (exact) return exact;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const k of known) {
    const d = editDistance(norm(key), norm(k));
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  return bestDist <= limit ? best : undefined;
}

/** Damerau-Levenshtein (optimal string alignment) distance: a swap of two letters counts as one. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}
