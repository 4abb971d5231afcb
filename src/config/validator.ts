// Validator: collects diagnostics for one resource, turning field paths into file:line:column.
import { Codes, type Diagnostic, type Level } from "../model/diagnostic.ts";
import { formatPath, resourceId, type FieldPath, type Resource } from "../model/resource.ts";

export class Validator {
  readonly diagnostics: Diagnostic[] = [];
  readonly resource: Resource;
  readonly id: string;

  constructor(resource: Resource) {
    this.resource = resource;
    this.id = resourceId(resource);
  }

  error(path: FieldPath, message: string, code: string = Codes.validation): void {
    this.add("error", path, message, code);
  }

  warn(path: FieldPath, message: string, code: string = Codes.validation): void {
    this.add("warning", path, message, code);
  }

  deprecated(path: FieldPath, message: string): void {
    this.add("warning", path, message, Codes.deprecated);
  }

  add(level: Level, path: FieldPath, message: string, code: string): void {
    this.diagnostics.push({ level, code, message, resource: this.id, path: formatPath(path), source: this.resource.positionOf(path) });
  }

  get ok(): boolean {
    return !this.diagnostics.some((d) => d.level === "error");
  }
}
