// SecretStore: the proxy's local stand-in for Kubernetes Secrets (`amime proxy --secret-dir DIR`):
// every *.yaml / *.yml / *.json file in DIR is read for Secrets (secret.ts), the directory is
// watched, and a change is re-read off the request path and announced to subscribers (the TLS
// contexts of listeners and clusters that use `credentialName`). A file that fails to parse keeps
// the secrets it held before (last good) and is reported once per change.
import { join } from "node:path";
import { readdirAsync, readFileAsync } from "../../../core/builtins.ts";
import { parseSecrets, type TlsSecret } from "./secret.ts";
import { Reloader, watchDirectory } from "./watch.ts";

const SECRET_FILE = /\.(ya?ml|json)$/i;

export class SecretStore {
  readonly dir: string;
  private byFile = new Map<string, TlsSecret[]>();
  private readonly listeners = new Set<() => void>();
  private readonly reloader: Reloader;
  private unwatch: (() => void) | null = null;
  private readonly log: (line: string) => void;

  private constructor(dir: string, log: (line: string) => void) {
    this.dir = dir;
    this.log = log;
    this.reloader = new Reloader(() => this.load());
  }

  /** Read DIR and start watching it. Throws when DIR cannot be read. */
  static async open(dir: string, log: (line: string) => void = (l) => process.stderr.write(`amime proxy: ${l}\n`)): Promise<SecretStore> {
    const store = new SecretStore(dir, log);
    await readdirAsync(dir); // a missing or unreadable directory stops the start with its own error
    store.unwatch = watchDirectory(dir, () => store.reloader.trigger());
    await store.load();
    return store;
  }

  /**
   * The secret `name` as seen from `namespace`: one with that namespace, else one whose file names
   * none (visible from every namespace).
   */
  find(namespace: string, name: string): TlsSecret | undefined {
    let loose: TlsSecret | undefined;
    for (const secrets of this.byFile.values()) {
      for (const s of secrets) {
        if (s.name !== name) continue;
        if (s.namespace === namespace) return s;
        if (s.namespace === undefined && loose === undefined) loose = s;
      }
    }
    return loose;
  }

  /** Call `f` after every reload of the directory; returns the unsubscribe function. */
  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** Resolves when no reload is running or pending (tests, and callers that just wrote a file). */
  settled(): Promise<void> {
    return this.reloader.settled();
  }

  close(): void {
    this.unwatch?.();
    this.unwatch = null;
    this.listeners.clear();
  }

  private async load(): Promise<void> {
    let names: string[];
    try {
      names = (await readdirAsync(this.dir)).filter((n) => SECRET_FILE.test(n) && !n.startsWith("."));
    } catch (e) {
      this.log(`secret store ${this.dir}: ${(e as Error).message}; keeping the secrets read before`);
      return;
    }
    const next = new Map<string, TlsSecret[]>();
    for (const n of names.sort()) {
      const file = join(this.dir, n);
      try {
        next.set(file, parseSecrets(await readFileAsync(file, "utf8"), file));
      } catch (e) {
        const before = this.byFile.get(file);
        if (before !== undefined) next.set(file, before);
        // ENOENT: removed between readdir and read; a later event reports the directory as it is.
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.log(`secret store: ${(e as Error).message}${before !== undefined ? " (keeping its previous secrets)" : ""}`);
      }
    }
    this.byFile = next;
    for (const f of this.listeners) f();
  }
}
