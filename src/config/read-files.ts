// Reading config from files, directories (recursively, *.yaml|*.yml|*.json) and stdin ("-").
// The only file in config/ that touches node:*; everything else here is pure.
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { Codes, type Diagnostic } from "../model/diagnostic.ts";
import { parseMeshConfig } from "./mesh-config/parse.ts";
import { validateMeshConfig } from "./mesh-config/validate.ts";
import { parseDocuments, type ParseResult } from "./parse.ts";
import type { MeshConfig } from "../model/specs/mesh-config.ts";

const CONFIG_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/** Files a path stands for: itself, or the config files under a directory (sorted, recursive). */
export async function listConfigFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const entries = await readdir(path, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const full = join(path, e.name);
    if (e.isDirectory()) out.push(...(await listConfigFiles(full)));
    else if (CONFIG_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(full);
  }
  return out;
}

export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Load every document from the given paths ("-" = stdin). Missing paths become diagnostics, never throws. */
export async function loadConfig(paths: readonly string[], stdin?: NodeJS.ReadableStream): Promise<ParseResult> {
  const result: ParseResult = { resources: [], diagnostics: [] };
  for (const p of paths) {
    if (p === "-") {
      merge(result, parseDocuments(await readStdin(stdin), "<stdin>"));
      continue;
    }
    let files: string[];
    try {
      files = await listConfigFiles(p);
    } catch (e) {
      result.diagnostics.push(fileError(p, e));
      continue;
    }
    for (const f of files) {
      try {
        merge(result, parseDocuments(await readFile(f, "utf8"), f));
      } catch (e) {
        result.diagnostics.push(fileError(f, e));
      }
    }
  }
  return result;
}

function merge(into: ParseResult, from: ParseResult): void {
  into.resources.push(...from.resources);
  into.diagnostics.push(...from.diagnostics);
}

function fileError(file: string, e: unknown): Diagnostic {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === "ENOENT" ? "no such file or directory" : err.code === "EACCES" ? "permission denied" : err.message;
  return { level: "error", code: Codes.yamlSyntax, message: `cannot read ${file}: ${why}`, resource: "", path: "", source: { file, line: 0, column: 0 } };
}

export interface LoadedMeshConfig {
  /** The validated MeshConfig; null when the file is missing or has errors (see diagnostics). */
  config: MeshConfig | null;
  /** Errors and warnings (AMM1010 for fields accepted but not applied), with file:line and field path. */
  diagnostics: Diagnostic[];
}

/** Read and validate a MeshConfig file (plain MeshConfig YAML, or the `istio` ConfigMap). Never throws. */
export async function loadMeshConfig(path: string): Promise<LoadedMeshConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    return { config: null, diagnostics: [fileError(path, e)] };
  }
  const parsed = parseMeshConfig(text, path);
  if (!parsed.document) return { config: null, diagnostics: parsed.diagnostics };
  const v = validateMeshConfig(parsed.document);
  return { config: v.config, diagnostics: [...parsed.diagnostics, ...v.diagnostics] };
}
