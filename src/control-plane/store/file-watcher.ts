// Watches the config paths given to the control plane (files and directories) and reports which
// config files changed, debounced on the injected clock so an editor's write-rename-chmod burst
// becomes one reload. A file is watched through its directory so that editors that replace the
// file (write a temp file, rename it over) keep being seen.
import { watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { Clock, TimerHandle } from "../../core/clock.ts";

const CONFIG_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

export interface FileWatcherOptions {
  clock: Clock;
  debounceMs: number;
  /** Called with the absolute paths of changed (created, modified or removed) config files. */
  onChange: (files: string[]) => void;
  onError?: (e: Error) => void;
}

export class FileWatcher {
  private readonly watchers: FSWatcher[] = [];
  private readonly pending = new Set<string>();
  private timer: TimerHandle | null = null;
  private closed = false;
  private readonly opts: FileWatcherOptions;

  private constructor(opts: FileWatcherOptions) {
    this.opts = opts;
  }

  /** Paths as given to the control plane; relative paths resolve against the working directory. */
  static async start(paths: readonly string[], opts: FileWatcherOptions): Promise<FileWatcher> {
    const w = new FileWatcher(opts);
    for (const p of paths) {
      const abs = resolve(p);
      let isDir = false;
      try {
        isDir = (await stat(abs)).isDirectory();
      } catch {
        // A missing file is watched through its directory, so creating it later is noticed.
      }
      const dir = isDir ? abs : dirname(abs);
      const only = isDir ? null : basename(abs);
      try {
        const fw = watch(dir, { recursive: isDir, persistent: false }, (_event, name) => {
          if (name === null) return;
          const rel = name.toString();
          if (only !== null && rel !== only) return;
          if (only === null && (!CONFIG_EXTENSIONS.has(extname(rel).toLowerCase()) || rel.split(/[\\/]/).some((s) => s.startsWith(".")))) return;
          w.touch(join(dir, rel));
        });
        fw.on("error", (e) => opts.onError?.(e));
        w.watchers.push(fw);
      } catch (e) {
        opts.onError?.(e as Error);
      }
    }
    return w;
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }

  private touch(file: string): void {
    if (this.closed) return;
    this.pending.add(file);
    // Trailing debounce: each event restarts the quiet period.
    this.timer?.cancel();
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      const files = [...this.pending].sort();
      this.pending.clear();
      if (files.length > 0) this.opts.onChange(files);
    }, this.opts.debounceMs);
  }
}
