// `amime validate`: schema-check each config document on its own, like `istioctl validate`. Loads
// files, directories or stdin, prints every diagnostic with file:line:column and field path, and a
// summary line per resource. Exit 0 when everything is valid, 1 when anything is not, 2 on usage errors.
import { formatDiagnostic, type Diagnostic } from "../model/diagnostic.ts";
import { loadConfig } from "../config/read-files.ts";
import { resourceId, type Resource } from "../model/resource.ts";
import { validateResource, type ResourceStatus } from "../config/validate.ts";
import type { Command } from "./command.ts";

export const VALIDATE_HELP = `Usage: amime validate -f FILE|DIR|- [-f …] [-o text|json]

Check each Istio-style config document on its own (schema, field values, Istio's validation rules),
like \`istioctl validate\`. Every problem is printed with its file:line:column, its field path and
a stable code (see docs/config.md). To check resources against each other, use \`amime analyze\`.

Options:
  -f, --filename PATH   a YAML/JSON file, a directory (read recursively: *.yaml, *.yml, *.json)
                        or - for stdin; repeatable
  -o, --output FORMAT   text (default) or json
  -h, --help            show this help

Exit status: 0 when every resource is valid (warnings do not fail), 1 when any document is invalid
or cannot be read, 2 on usage errors.
`;

export class ValidateUsageError extends Error {
  readonly code = "AMIME_USAGE";
}

export interface ValidateArgs {
  files: string[];
  output: "text" | "json";
  help: boolean;
}

export function parseValidateArgs(argv: readonly string[]): ValidateArgs {
  const out: ValidateArgs = { files: [], output: "text", help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    // --flag=value and -f=value as well as "--flag value".
    const eq = arg.startsWith("--") ? arg.indexOf("=") : /^-[a-z]=/.test(arg) ? 2 : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || (v.startsWith("-") && v !== "-")) throw new ValidateUsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-h": case "--help":
        out.help = true;
        break;
      case "-f": case "--filename": {
        const v = value();
        if (v === "") throw new ValidateUsageError(`${flag} needs a non-empty path`);
        out.files.push(v);
        break;
      }
      case "-o": case "--output": {
        const v = value();
        if (v !== "text" && v !== "json") throw new ValidateUsageError(`unknown output format ${JSON.stringify(v)} (use text or json)`);
        out.output = v;
        break;
      }
      default:
        if (arg.startsWith("-") && arg !== "-") throw new ValidateUsageError(`unknown flag ${JSON.stringify(flag)}`);
        throw new ValidateUsageError(`unexpected argument ${JSON.stringify(arg)}; pass files with -f ${arg}`);
    }
  }
  return out;
}

/** One resource's outcome, as printed and as serialized by `-o json`. */
export interface ResourceReport {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  file: string;
  line: number;
  status: ResourceStatus;
  diagnostics: Diagnostic[];
}

export interface ValidateReport {
  valid: boolean;
  /** Problems not tied to one resource: unreadable files, YAML syntax, documents without apiVersion/kind. */
  diagnostics: Diagnostic[];
  resources: ResourceReport[];
}

export function validateAll(resources: readonly Resource[], loadDiagnostics: readonly Diagnostic[]): ValidateReport {
  const reports = resources.map((r): ResourceReport => {
    const result = validateResource(r);
    return {
      apiVersion: r.apiVersion, kind: r.kind, namespace: r.metadata.namespace || "default", name: r.metadata.name,
      file: r.source.file, line: r.source.line, status: result.status, diagnostics: result.diagnostics,
    };
  });
  const valid = !loadDiagnostics.some((d) => d.level === "error") && reports.every((r) => r.status !== "invalid") && (reports.length > 0 || loadDiagnostics.length > 0);
  return { valid, diagnostics: [...loadDiagnostics], resources: reports };
}

export function formatValidateText(report: ValidateReport): string {
  const lines: string[] = report.diagnostics.map(formatDiagnostic);
  for (const r of report.resources) {
    lines.push(...r.diagnostics.map(formatDiagnostic));
    const id = resourceId({ kind: r.kind, metadata: { name: r.name, namespace: r.namespace, labels: {}, annotations: {} } });
    const where = r.file ? ` (${r.file}${r.line ? `:${r.line}` : ""})` : "";
    const errors = r.diagnostics.filter((d) => d.level === "error").length;
    const warnings = r.diagnostics.filter((d) => d.level === "warning").length;
    const note = warnings ? ` with ${plural(warnings, "warning")}` : "";
    if (r.status === "valid") lines.push(`${id}${where}: validation succeed${note}`);
    else if (r.status === "ignored") lines.push(`${id}${where}: ignored (${r.apiVersion} ${r.kind} is not an Amime kind)`);
    else lines.push(`${id}${where}: invalid, ${plural(errors, "error")}${note}`);
  }
  if (report.resources.length === 0 && report.diagnostics.length === 0) lines.push("no resources found");
  const invalid = report.resources.filter((r) => r.status === "invalid").length;
  const unreadable = report.diagnostics.filter((d) => d.level === "error").length;
  const ignored = report.resources.filter((r) => r.status === "ignored").length;
  const parts = [`${plural(report.resources.length, "resource")}`];
  if (invalid) parts.push(`${invalid} invalid`);
  if (ignored) parts.push(`${ignored} ignored`);
  if (unreadable) parts.push(`${plural(unreadable, "document error")}`);
  lines.push(`${report.valid ? "validation succeed" : "validation failed"}: ${parts.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export const validateCommand: Command = {
  name: "validate",
  async run(argv: readonly string[]): Promise<number> {
    let args: ValidateArgs;
    try {
      args = parseValidateArgs(argv);
    } catch (e) {
      if (!(e instanceof ValidateUsageError)) throw e;
      process.stderr.write(`amime validate: ${e.message}\n\n${VALIDATE_HELP}`);
      return 2;
    }
    if (args.help) {
      process.stdout.write(VALIDATE_HELP);
      return 0;
    }
    if (args.files.length === 0) {
      process.stderr.write(`amime validate: no config given; pass -f FILE, -f DIR or -f - (stdin)\n\n${VALIDATE_HELP}`);
      return 2;
    }
    const loaded = await loadConfig(args.files);
    const report = validateAll(loaded.resources, loaded.diagnostics);
    process.stdout.write(args.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatValidateText(report));
    return report.valid ? 0 : 1;
  },
};
