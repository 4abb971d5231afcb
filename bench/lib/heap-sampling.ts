// V8's sampling heap profiler over the inspector protocol (a process started with
// `--inspect=127.0.0.1:0`), for `bench/alloc.ts --sites`: bytes allocated per call site (function ←
// its caller), objects collected by either GC included, so short-lived request garbage counts.

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

export interface AllocSite {
  /** `function ← caller` (file:line of the function). */
  site: string;
  bytes: number;
}

/** The inspector's WebSocket address, read from the process's stderr line "Debugger listening on ws://…". */
export function inspectorUrl(stderr: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
}

/** Sample allocations while `during` runs; returns the sites, largest first. */
export async function sampleAllocations(url: string, during: () => Promise<void>, intervalBytes = 256): Promise<AllocSite[]> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`cannot connect to the inspector at ${url}`));
  });
  let next = 0;
  const pending = new Map<number, (r: unknown) => void>();
  ws.onmessage = (e: MessageEvent) => {
    const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
  };
  const call = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("HeapProfiler.startSampling", { samplingInterval: intervalBytes, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await during();
  const { profile } = (await call("HeapProfiler.stopSampling")) as { profile: { head: SamplingNode } };
  ws.close();
  const bySite = new Map<string, number>();
  const walk = (n: SamplingNode, caller: string): void => {
    const name = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber + 1}`;
    if (n.selfSize > 0) bySite.set(`${name} ← ${caller}`, (bySite.get(`${name} ← ${caller}`) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, n.callFrame.functionName || "(anonymous)");
  };
  walk(profile.head, "(root)");
  return [...bySite].map(([site, bytes]) => ({ site, bytes })).sort((a, b) => b.bytes - a.bytes);
}
