// What a test/k8s file starts, stopped in one place (its `after`) and in the order that leaves
// nothing behind: the processes it spawned first (`amime proxy`, which would reconnect and log;
// `amime node-agent`), the test node agent (its pods' processes and network namespaces), the reflector and the control plane (a process must exit 0
// on SIGTERM), then the rig (API server, controller manager, etcd), then the temp dir. Every step
// runs even when one before it failed or when `before` failed halfway (what it did not start is
// undefined and skipped); the first failure is thrown at the end.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

export interface Started {
  /** Processes the file spawned: `amime proxy` (a MeshProxy's `child`), `amime node-agent`. */
  processes?: ReadonlyArray<ChildProcess | null | undefined>;
  agent?: { stop(): Promise<void> } | null | undefined;
  reflector?: { close(): void } | null | undefined;
  /** In-process (close resolves undefined) or a process (close resolves its exit code, which must be 0). */
  controlPlane?: { close(): Promise<unknown>; stderr?: () => string } | null | undefined;
  cluster?: { close(): Promise<void> } | null | undefined;
  dir?: string | undefined;
}

export async function tearDown(s: Started): Promise<void> {
  const failures: unknown[] = [];
  const step = async (run: () => unknown): Promise<void> => {
    try {
      await run();
    } catch (e) {
      failures.push(e);
    }
  };
  for (const p of s.processes ?? []) if (p) await step(() => stopChild(p));
  if (s.agent) await step(() => s.agent!.stop());
  if (s.reflector) await step(() => s.reflector!.close());
  const cp = s.controlPlane;
  if (cp) {
    await step(async () => {
      const code = await cp.close();
      if (code !== undefined) assert.equal(code, 0, `the control plane exited ${String(code)} on SIGTERM: ${cp.stderr?.() ?? ""}`);
    });
  }
  if (s.cluster) await step(() => s.cluster!.close());
  if (s.dir) await step(() => rmSync(s.dir!, { recursive: true, force: true }));
  if (failures.length > 0) throw failures[0];
}

/** SIGTERM, and the exit awaited (SIGKILL if it has not exited 5 s later: a hung test must end). */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
