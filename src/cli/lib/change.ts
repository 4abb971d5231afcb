// The body shared by `amime apply` and `amime delete`: read and check the files, refuse locally
// when anything is broken (nothing is sent), then send each file in order and print kubectl's
// `kind.group/name action` lines. A refused file stops the run: it changed nothing, and neither
// do the files after it.
import { formatDiagnostic, hasErrors, type Diagnostic } from "../../model/diagnostic.ts";
import type { ApplyResult } from "../../model/wire.ts";
import { UsageError, type ParsedArgs } from "./args.ts";
import { loadSources, type ConfigSource } from "./config-sources.ts";
import type { ControlPlaneClient } from "./control-plane-client.ts";
import { formatStructured } from "./output.ts";
import { lookupKindByName, parseResourceId, qualifiedKind, qualifiedPlural } from "./resource-kinds.ts";
import { connect } from "./run.ts";

export type ChangeMode = "apply" | "delete";

export interface ChangeReport {
  source: string;
  result: ApplyResult;
}

/** `virtualservice.networking.istio.io/reviews configured`, one line per change. */
export function formatChanges(result: ApplyResult): string {
  return result.changes.map((c) => {
    const id = parseResourceId(c.resource);
    return `${id ? `${qualifiedKind(id.kind)}/${id.name}` : c.resource} ${c.action}\n`;
  }).join("");
}

export function formatDiagnostics(ds: readonly Diagnostic[]): string {
  return ds.map((d) => `${formatDiagnostic(d)}\n`).join("");
}

export async function runChange(mode: ChangeMode, args: ParsedArgs, inline?: ConfigSource): Promise<number> {
  const files = args.lists.get("filename") ?? [];
  const output = args.strings.get("output");
  let sources: ConfigSource[];
  if (inline !== undefined) sources = [inline];
  else {
    if (files.length === 0) throw new UsageError(`no config given; pass -f FILE, -f DIR or -f - (stdin)`);
    const loaded = await loadSources(files, mode === "apply");
    if (loaded.diagnostics.length > 0) process.stderr.write(formatDiagnostics(loaded.diagnostics));
    if (hasErrors(loaded.diagnostics)) {
      process.stderr.write(`amime ${mode}: ${mode === "apply" ? "invalid" : "unreadable"} config: nothing was sent, nothing was changed\n`);
      return 1;
    }
    sources = loaded.sources.filter((s) => s.resources > 0);
    if (sources.length === 0) {
      process.stderr.write(`amime ${mode}: no objects passed to ${mode}\n`);
      return 1;
    }
  }
  const client = await connect(args);
  const reports: ChangeReport[] = [];
  const code = await sendAll(client, mode, sources, reports, output === undefined);
  if (output === "json" || output === "yaml") process.stdout.write(formatStructured(reports, output));
  return code;
}

/** The control plane's "not found" warning on delete (config-store.ts). */
const NOT_FOUND_CODE = "AMM2001";
/** The control plane's conflict: a document named a stale metadata.resourceVersion (config-store.ts). */
const CONFLICT_CODE = "AMM2002";

/**
 * What to show of a result's diagnostics. The control plane analyzes the whole mesh on every
 * change, so warnings about other files would repeat on every apply: show errors (they are why a
 * change is refused, wherever they are) and the warnings of this file.
 */
export function relevantDiagnostics(result: ApplyResult, source: string): Diagnostic[] {
  return result.diagnostics.filter((d) => d.code !== NOT_FOUND_CODE && d.code !== CONFLICT_CODE && (d.level === "error" || d.source.file === source));
}

async function sendAll(client: ControlPlaneClient, mode: ChangeMode, sources: readonly ConfigSource[], reports: ChangeReport[], print: boolean): Promise<number> {
  let code = 0;
  for (const [i, s] of sources.entries()) {
    const result = mode === "apply" ? await client.apply(s.text, s.source) : await client.delete(s.text, s.source);
    reports.push({ source: s.source, result });
    if (print) process.stdout.write(formatChanges(result));
    process.stderr.write(formatDiagnostics(relevantDiagnostics(result, s.source)));
    // kubectl: deleting something that is not there is an error (exit 1), the rest still goes.
    for (const d of result.diagnostics.filter((x) => x.code === NOT_FOUND_CODE)) {
      const id = parseResourceId(d.resource);
      const kind = id ? lookupKindByName(id.kind) : undefined;
      process.stderr.write(`Error from server (NotFound): ${kind ? qualifiedPlural(kind) : id?.kind ?? d.resource} ${JSON.stringify(id?.name ?? d.resource)} not found\n`);
      code = 1;
    }
    // kubectl's words for a stale resourceVersion (the server's message says which versions differ).
    for (const d of result.diagnostics.filter((x) => x.code === CONFLICT_CODE)) {
      const id = parseResourceId(d.resource);
      const kind = id ? lookupKindByName(id.kind) : undefined;
      const what = `${kind ? qualifiedPlural(kind) : id?.kind ?? d.resource} ${JSON.stringify(id?.name ?? d.resource)}`;
      const reason = d.message.includes("does not exist") ? "the object does not exist; leave metadata.resourceVersion out to create it" : "the object has been modified; please apply your changes to the latest version and try again";
      process.stderr.write(`Error from server (Conflict): Operation cannot be fulfilled on ${what}: ${reason}\n`);
    }
    if (!result.applied) {
      const rest = sources.length - i - 1;
      const later = rest > 0 ? `${rest} later file${rest === 1 ? " was" : "s were"} not sent` : "";
      const why = i === 0
        ? `nothing was changed${later ? ` (${later})` : ""}`
        : `it changed nothing${later ? ` and ${later}` : ""}; the ${i} earlier file${i === 1 ? " was" : "s were"} ${mode === "apply" ? "applied" : "deleted"}`;
      process.stderr.write(`amime ${mode}: the control plane refused ${s.source}: ${why}\n`);
      return 1;
    }
  }
  return code;
}
