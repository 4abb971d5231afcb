// The V8 and Node flags every sidecar and gateway process is started with, by whoever starts it: the local
// and netns runtimes (src/runtime/js-build/sidecar-launch.ts), the Kubernetes injection template's
// command and the bench. V8 sizes its heap only at start, so they cannot be set from inside.
//
// --max-semi-space-size=1: the young generation's semi-spaces stay at 1 MB instead of growing to
// 16 MB (Node 24's default maximum on 64-bit). A proxy allocates short-lived objects per request
// and per connection; with the default, a burst of connections leaves the young generation at its
// maximum for good (the RSS plateau of docs/performance.md, "Memory and start"). Sessions 6–11 ran
// 2 MB: 1 MB cost ≈ 9 % CPU per request at saturation when a request allocated ≈ 4.1 KB. At ≈ 2.2 KB
// (session 12) 1 MB costs ≈ 1 % for HTTP/1.1 (within noise), ≈ 5 % for h2c at saturation and ≈ 10 %
// at 1,000 rps ("Session 12: … the CPU price of 1 MB semi-spaces"), and V8 no longer doubles the
// young generation ≈ 8 s into a steady load, which set the peak RSS at 1,000 rps: ≈ 0.7–1 MB lower
// ("Session 11: the sidecar's peak RSS"; "Session 12: TurboFan's compile bursts"). Issue 15's memory
// goal is the one not met, so the bytes win.
//
// --expose-gc: V8's `gc`, which the sidecar calls once when it goes quiet after its heap grew
// (src/proxy/memory/idle-gc.ts): V8's own memory reducer waits for a low allocation rate that it only
// samples at collections, so a proxy gone quiet after a burst kept the burst's heap (20–35 MB).
//
// --no-maglev: no mid-tier compiler; functions go from the interpreter straight to TurboFan when hot
// (through Sparkplug before session 13: --no-sparkplug, below). Maglev compiled far more of the
// sidecar than the hot path (its threshold is lower), and its code, its compile zones (malloc'd by the
// V8 worker threads, freed but kept) and its 1.5 MB of the node executable's pages cost ≈ 6–7 MB of
// peak RSS at 1,000 rps (77.4 → 70.7 MB, private 29.6 → 22.9; docs/performance.md, "Session 8: the
// sidecar's RSS"). A long-running proxy's hot path ends in TurboFan either way: no CPU cost measured
// at saturation or at 1,000 rps.
//
// --v8-pool-size=1: one V8 worker thread instead of Node's 4 (concurrent marking, compile jobs,
// sweeping still run beside the request thread). Each worker mallocs in its own glibc arena, which
// keeps what it freed: 4 arenas held 6.7 MB at 1,000 rps. One: ≈ 2.5–3 MB less peak RSS (69.1–70.3 →
// 66.7–67.5 MB in 4 alternating runs). A sidecar runs on a share of a core (the bench pins it to
// one), where more V8 threads would only take turns with the request thread.
//
// --use-openssl-ca: the default CA store is OpenSSL's, which SIDECAR_ENV points at nothing, instead of
// Node's bundled roots, which a thread parses as soon as `node:tls` loads and whose ≈ 0.85 MB stay for
// the process's life (plus NODE_EXTRA_CA_CERTS, parsed by the same thread: not passed, sidecarEnv).
// Every mesh context names its own `ca`; what trusts by default (origination without
// `caCertificates`, remote JWKS, HTTPS exporters) is given the system CA bundle explicitly, read at
// its first connection (src/proxy/tls/default-trust.ts; docs/performance.md, "Session 12: the
// default trust store").
//
// --no-sparkplug: no baseline compiler either; a function runs in the interpreter until TurboFan takes
// it. Sparkplug compiled warm functions (start code, config handling, the request path's rare
// branches) into V8's code range, 1.1 MB of it resident at 1,000 rps against 0.5 without. The hot path
// ends in TurboFan either way: CPU per request, A/B in two locked bench/run.ts runs (8 rounds, load
// 2–5), medians 1.010 at saturation, 0.976 at 1,000 rps, h2c 0.997 / 0.965. Peak RSS at 1,000 rps
// (bench/peak-probe.ts, 7 alternating pairs, medians) 62.8 → 62.1 MB, RSS at the end 62.2 → 61.6; in
// bench/memory.ts (4 pairs) the peak 62.8 → 62.6 (inside the spread) and the RSS 60 s after the
// connection burst 62.6 → 60.1. The pushed 1,000-service start is not slower: ready 310 → 298 ms
// (medians of 6), its CPU to ready 192 → 181 ms, RSS at ready 73.0 → 72.2 MB (docs/performance.md,
// "Session 13: the sidecar's V8 flags"). Until TurboFan has the hot path its functions run
// interpreted (session 9's --prof: 95 of 258 JavaScript ticks in the first seconds of 1,000 rps).
//
// --max-inlined-bytecode-size-cumulative=230: TurboFan inlines at most 230 bytes of callees' bytecode
// into one optimized function (V8's default 920). What sets the peak RSS at 1,000 rps is TurboFan's
// compile jobs: each job's zone memory (its graph, 1–4 MB with the default budget) is malloc'd by the V8
// worker and given back when the job ends, so VmHWM is the largest job over the RSS of the moment
// (docs/performance.md, "Session 13: the compile spikes at 1,000 rps"). Smaller graphs, smaller jobs:
// bench/peak-probe.ts (quiet, two alternating rounds with the clock change of the same session) VmHWM
// 61.4 MB with the default budget, 60.7–60.9 at 690, 60.3–60.5 at 460, **59.8–59.9 at 230**. The cost
// is calls the default would have inlined: CPU per request at saturation, A/B in two runs (4 and 5
// rounds, quiet), medians 1.016 and 1.078; at 1,000 rps 1.148 (windows' median 1.043) and 0.990; h2c
// 0.907 / 0.955 ("Quiet-machine measurements at the end of session 13"). The CPU goals keep their margin and
// its memory goal is the one not met, so the bytes win, as with the semi-spaces above.
//
// --no-node-snapshot: Node bootstraps from its JavaScript (with the code cache built into the
// executable) instead of deserializing its built-in startup snapshot. The snapshot's heap is larger
// than what the bootstrap of a sidecar makes, and reading it touches ≈ 1.7 MB of the executable's
// read-only data that stay resident: idle RSS 49.5 → 46.2 MB, peak at 1,000 rps 60.0 → 56.9–57.1 from a
// file and 64.7–64.8 → 61.6–61.7 pushed (bench/memory.ts, two alternating rounds, load ≤ 1.4). The price
// is start: Node's own modules are compiled at the sidecar's start, ≈ 35–50 ms more CPU (`node -e 0` 20 →
// 60–70 ms; ready 83 → 89–118 ms from a file, 92 → 125 pushed; the pushed 1,000-service start 306 → 355
// ms, quiet: docs/performance.md, "Session 14: Node's startup snapshot", "Quiet-machine measurements at
// the end of session 14"). Memory is the goal every sidecar pays; the Bookinfo sidecar stays well under
// the 300 ms start goal, the pushed 1,000-service one goes over it.
//
// --concurrent-recompilation-queue-length=1: one function at a time waits for TurboFan (V8's default 8).
// A queued job already holds the zone its graph was built in on the request thread, so a wave of
// functions getting hot together (≈ 5.6 s into 1,000 rps: the second wave) held up to eight zones at
// once and set VmHWM above the RSS around it. With one, a function that gets hot while a job is in
// flight stays interpreted until its next tier-up check finds the queue free. Peak RSS at 1,000 rps,
// pushed (bench/memory.ts, three alternating pairs) 60.4, 60.7, 60.5 → 60.2, 60.2, 60.3 MB; VmHWM now
// reached at the end of the load, not at the wave. CPU per request after warm-up 0.925 at saturation,
// 0.938 at 1,000 rps (one locked run, 4 rounds); the pushed 1,000-service start's CPU to ready the same
// (docs/performance.md, "Session 17: one compile job at a time, …").
export const SIDECAR_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--expose-gc", "--no-maglev", "--v8-pool-size=1", "--use-openssl-ca", "--no-sparkplug", "--max-inlined-bytecode-size-cumulative=230", "--no-node-snapshot", "--concurrent-recompilation-queue-length=1"];

// The environment every sidecar and gateway process is started with, by the same starters (glibc
// reads it once, at the process's first malloc: it cannot be set from inside either).
//
// MALLOC_MMAP_THRESHOLD_=131072: allocations of 128 KB and more get pages of their own, returned on
// free, instead of glibc's dynamic threshold, which rises to 32 MB as soon as one large block is freed
// and then serves every later one from the main arena, which keeps them. V8 parsing the sidecar's
// bundle (one 490 KB script, src/runtime/js-build/bundle.ts) frees large zone segments at start that
// stayed in the arena (≈ 1.6 MB at idle), and the peak at 1,000 rps was ≈ 1.4 MB higher with them
// (68.0, 67.6 → 66.7, 66.2 MB; docs/performance.md, "Session 10: a bundle of the sidecar").
//
// SSL_CERT_FILE, SSL_CERT_DIR=/dev/null: OpenSSL's default store (--use-openssl-ca, above) empty.
// OpenSSL would otherwise load the whole file at the first context (+2.5–4.4 MB where it names the
// system bundle, docs/performance.md "Session 10: the pushed sidecar") and search the directory per
// verification. /dev/null: always there and always empty (a made-up path might exist), and no
// directory, so a hashed lookup finds nothing either.
export const SIDECAR_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: "131072", SSL_CERT_FILE: "/dev/null", SSL_CERT_DIR: "/dev/null" };

/** Where the launcher passes on the user's NODE_EXTRA_CA_CERTS: the default trust adds it (src/proxy/tls/default-trust.ts). */
export const EXTRA_CA_CERTS_ENV = "AMIME_EXTRA_CA_CERTS";

/**
 * A sidecar's environment from its starter's: SIDECAR_ENV over it, and NODE_EXTRA_CA_CERTS moved to
 * EXTRA_CA_CERTS_ENV. Node would parse that file at start, whether or not a config trusts by default;
 * under our own name it is read with the system bundle, at the first connection that needs them, so
 * the certificates it names stay trusted where they were (default-trust clients) and nowhere else.
 */
export function sidecarEnv(parent: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) if (v !== undefined && k !== "NODE_EXTRA_CA_CERTS") env[k] = v;
  const extra = parent.NODE_EXTRA_CA_CERTS;
  if (extra !== undefined && extra !== "") env[EXTRA_CA_CERTS_ENV] = extra;
  return { ...env, ...SIDECAR_ENV };
}
