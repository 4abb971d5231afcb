// Starts test/telemetry/otlp-receiver.ts as a child process and collects what it decoded.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface Received {
  path: string;
  refused?: boolean;
  error?: string;
  headers?: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

export interface Receiver {
  port: number;
  received: Received[];
  /** Resolves once `n` requests have been received (refused ones included). */
  until(n: number): Promise<void>;
  close(): Promise<void>;
}

/** `port` 0 = any free one (a test that restarts the receiver on the same port names one). */
export async function startReceiver(failFirst = 0, listenPort = 0): Promise<Receiver> {
  const script = fileURLToPath(new URL("./otlp-receiver.ts", import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [script, String(failFirst), String(listenPort)], { stdio: ["ignore", "pipe", "inherit"] });
  const received: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`otlp receiver exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) return resolve(Number(m[1]));
      received.push(JSON.parse(line) as Received);
      for (const w of waiters.filter((x) => received.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  return {
    port,
    received,
    until: (n) => (received.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
