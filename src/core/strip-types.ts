// TypeScript → JavaScript by Node's own type stripping ("strip" mode: types are blanked out in
// place, so every line and column stays where it was). Used where code is handed on as JavaScript:
// the dashboard's browser modules, and the JavaScript tree sidecars run from (src/runtime/js-build/).
import { stripTypeScriptTypes } from "node:module";

/** Type stripping without Node's one-time "experimental" warning on stderr. */
export function stripTypes(source: string): string {
  const emit = process.emitWarning;
  process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
    if (String(typeof w === "string" ? w : w.message).includes("stripTypeScriptTypes")) return;
    (emit as (...a: unknown[]) => void).call(process, w, ...rest);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(source, { mode: "strip" });
  } finally {
    process.emitWarning = emit;
  }
}
