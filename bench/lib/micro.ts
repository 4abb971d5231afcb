// Micro benchmarks' timing loop (bench/http1-parse.ts, bench/hpack.ts): warm the JIT up on a
// quarter of the iterations, then print the mean ns per call.

export function measure(name: string, iterations: number, fn: () => unknown, unit = "op"): void {
  let sink: unknown;
  for (let i = 0; i < iterations / 4; i++) sink = fn(); // warm up the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink = fn();
  const ns = Number(process.hrtime.bigint() - t0) / iterations;
  if (sink === undefined) throw new Error("nothing measured");
  console.log(`${name.padEnd(56)} ${ns.toFixed(0).padStart(6)} ns/${unit}`);
}
