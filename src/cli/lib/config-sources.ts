// What `amime apply|delete -f` sends: each file's text as written (the control plane parses it
// again and keeps file:line for `get -o wide` and `explain`), after the same checks done locally
// so that a broken file is reported without a round trip and before anything changes.
import { readFile } from "node:fs/promises";
import { Codes, type Diagnostic } from "../../model/diagnostic.ts";
import { parseDocuments } from "../../config/parse.ts";
import { listConfigFiles, readStdin } from "../../config/read-files.ts";
import { validateResource } from "../../config/validate.ts";

export interface ConfigSource {
  /** File name as given (sent as x-amime-source); `<stdin>` for `-`. */
  source: string;
  text: string;
  /** Number of documents (resources) it holds. */
  resources: number;
}

export interface LoadedSources {
  sources: ConfigSource[];
  /** Read errors, YAML errors and, when validating, schema errors and warnings. */
  diagnostics: Diagnostic[];
}

export const STDIN_SOURCE = "<stdin>";

/**
 * Reads every path ("-" = stdin, directories recursively) and checks it: parse errors always,
 * schema validation too when `validate` (apply; delete only needs kind and name).
 */
export async function loadSources(paths: readonly string[], validate: boolean, stdin?: NodeJS.ReadableStream): Promise<LoadedSources> {
  const out: LoadedSources = { sources: [], diagnostics: [] };
  for (const p of paths) {
    let files: string[];
    if (p === "-") files = [p];
    else {
      try {
        files = await listConfigFiles(p);
      } catch (e) {
        out.diagnostics.push(readError(p, e));
        continue;
      }
    }
    for (const f of files) {
      let text: string;
      try {
        text = f === "-" ? await readStdin(stdin) : await readFile(f, "utf8");
      } catch (e) {
        out.diagnostics.push(readError(f, e));
        continue;
      }
      const source = f === "-" ? STDIN_SOURCE : f;
      const parsed = parseDocuments(text, source);
      out.diagnostics.push(...parsed.diagnostics);
      if (validate) for (const r of parsed.resources) out.diagnostics.push(...validateResource(r).diagnostics);
      out.sources.push({ source, text, resources: parsed.resources.length });
    }
  }
  return out;
}

function readError(file: string, e: unknown): Diagnostic {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === "ENOENT" ? "no such file or directory" : err.code === "EACCES" ? "permission denied" : err.message;
  return { level: "error", code: Codes.yamlSyntax, message: `cannot read ${file}: ${why}`, resource: "", path: "", source: { file, line: 0, column: 0 } };
}
