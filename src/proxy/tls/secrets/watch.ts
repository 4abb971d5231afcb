// Watching certificate files: fs.watch on the directory that holds each file (not on the file:
// tools that rotate certificates write a new file and rename it over the old one, and a watch on
// the old inode would go quiet), and a reloader that coalesces bursts of events into one reload
// at a time, so the request path never waits for the disk.
import type { FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { fs } from "../../../core/builtins.ts";

/**
 * Call `onChange` whenever one of `paths` may have changed (created, written, renamed over,
 * removed). Returns the function that stops watching. A directory that cannot be watched (it does
 * not exist) is skipped: the caller's own read reports the missing file.
 */
export function watchFiles(paths: readonly string[], onChange: () => void): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) {
    const full = resolve(p);
    const dir = dirname(full);
    let names = byDir.get(dir);
    if (names === undefined) byDir.set(dir, (names = new Set()));
    names.add(basename(full));
  }
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const w = fs.watch(dir, { persistent: false }, (_event, name) => {
        // Some platforms omit the name: treat any event in the directory as a change.
        if (name === null || names.has(name.toString())) onChange();
      });
      w.on("error", () => undefined);
      watchers.push(w);
    } catch {
      // Missing directory: nothing to watch.
    }
  }
  return () => {
    for (const w of watchers) w.close();
  };
}

/** Every change in a directory (the secret store). Throws when the directory cannot be watched. */
export function watchDirectory(dir: string, onChange: () => void): () => void {
  const w = fs.watch(dir, { persistent: false }, () => onChange());
  w.on("error", () => undefined);
  return () => w.close();
}

/**
 * Runs an async reload after `trigger()`: one at a time, and a trigger during a reload runs one
 * more afterwards (so the last change is always read), never more. `settled()` resolves once no
 * reload is running or pending.
 */
export class Reloader {
  private running: Promise<void> | null = null;
  private pending = false;
  private readonly reload: () => Promise<void>;

  constructor(reload: () => Promise<void>) {
    this.reload = reload;
  }

  trigger(): void {
    if (this.running !== null) {
      this.pending = true;
      return;
    }
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    do {
      this.pending = false;
      try {
        await this.reload();
      } catch {
        // The reload reports its own failures; the last good state stays.
      }
    } while (this.pending);
    this.running = null;
  }

  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}
