// File source: loads the control plane's config paths (files and directories) into the store and
// reloads single files when the watcher reports them. Each changed file is judged on its own: a
// bad edit to one file is refused without holding back a good edit to another.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Codes, type Diagnostic } from "../../model/diagnostic.ts";
import { listConfigFiles } from "../../config/read-files.ts";
import type { ConfigStore, StoreResult } from "./config-store.ts";

export interface FileReload {
  file: string;
  result: StoreResult;
}

export class FileSource {
  private readonly store: ConfigStore;
  /** Last text seen per file (absolute path), to skip events that changed nothing. */
  private readonly texts = new Map<string, string>();
  private readonly roots: string[];

  constructor(store: ConfigStore, paths: readonly string[]) {
    this.store = store;
    this.roots = paths.map((p) => resolve(p));
  }

  /** Read every config file under the paths; missing paths and parse errors refuse the whole load. */
  async load(): Promise<StoreResult> {
    const contents = new Map<string, string | null>();
    const problems: Diagnostic[] = [];
    for (const root of this.roots) {
      let files: string[];
      try {
        files = await listConfigFiles(root);
      } catch (e) {
        problems.push(readError(root, e));
        continue;
      }
      for (const f of files) {
        try {
          contents.set(f, await readFile(f, "utf8"));
        } catch (e) {
          problems.push(readError(f, e));
        }
      }
    }
    const result = await this.store.setFiles(contents, problems);
    if (result.accepted) for (const [f, t] of contents) if (t !== null) this.texts.set(f, t);
    return result;
  }

  /** Re-read the given files (absolute paths); a file that no longer exists drops its resources. */
  async reload(files: readonly string[]): Promise<FileReload[]> {
    const out: FileReload[] = [];
    for (const file of files) {
      let text: string | null;
      try {
        text = await readFile(file, "utf8");
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "EISDIR") {
          out.push({ file, result: await this.store.setFiles(new Map(), [readError(file, e)]) });
          continue;
        }
        text = null;
      }
      if (text === null && !this.texts.has(file)) continue;
      if (text !== null && this.texts.get(file) === text) {
        // Back to the last good text (an edit undone): nothing changes, and no refusal stands.
        this.store.clearRefusal(file);
        continue;
      }
      const result = await this.store.setFiles(new Map([[file, text]]));
      if (result.accepted) {
        if (text === null) this.texts.delete(file);
        else this.texts.set(file, text);
      }
      out.push({ file, result });
    }
    return out;
  }
}

function readError(file: string, e: unknown): Diagnostic {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === "ENOENT" ? "no such file or directory" : err.code === "EACCES" ? "permission denied" : err.message;
  return { level: "error", code: Codes.yamlSyntax, message: `cannot read ${file}: ${why}`, resource: "", path: "", source: { file, line: 0, column: 0 } };
}
