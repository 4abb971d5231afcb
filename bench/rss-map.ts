// Where a process's RSS is (issue 15): /proc/PID/smaps summed by kind of mapping, and the pages of the
// `node` executable that the process has touched (/proc/PID/pagemap, root only), attributed through
// the executable's symbol table (`nm`) to V8's compilers, builtins, GC, ICU, OpenSSL, Node's own
// JavaScript sources (the unnamed `.rodata` ranges), and so on. With `--against PID2` (an empty
// `node -e "setTimeout(()=>{},1e5)"`, say) it also lists which of those pages PID has and PID2 not.
// The measure behind docs/performance.md, "Session 8: the sidecar's RSS".
//
// Usage: node bench/rss-map.ts PID [--against PID2]
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, realpathSync } from "node:fs";
import { benchArgs } from "./lib/args.ts";

const { values, positionals } = benchArgs({ allowPositionals: true, options: { against: { type: "string" } } });
const pid = Number(positionals[0]);
if (!Number.isInteger(pid) || pid <= 0) throw new Error("usage: node bench/rss-map.ts PID [--against PID2]");
const PAGE = 4096;
const mb = (kb: number): string => (kb / 1024).toFixed(1).padStart(6);

interface Mapping { start: number; end: number; perms: string; offset: number; path: string; rssKb: number; privateKb: number }

function mappings(p: number): Mapping[] {
  const out: Mapping[] = [];
  for (const line of readFileSync(`/proc/${p}/smaps`, "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \S+\s*(.*)$/.exec(line);
    if (m) out.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), perms: m[3]!, offset: parseInt(m[4]!, 16), path: m[5]!, rssKb: 0, privateKb: 0 });
    const f = /^(Rss|Private_Dirty):\s+(\d+) kB/.exec(line);
    if (f && out.length > 0) out[out.length - 1]![f[1] === "Rss" ? "rssKb" : "privateKb"] += Number(f[2]);
  }
  return out;
}

function kind(m: Mapping, exe: string): string {
  if (m.path === exe) return `node executable ${m.perms}`;
  if (m.path === "") return m.perms.includes("x") ? "anonymous, executable (V8 code range)" : "anonymous (V8 heap, thread arenas, stacks)";
  if (m.path.startsWith("[")) return m.path === "[heap]" ? "[heap] (main malloc arena)" : m.path;
  return m.path.includes(".so") ? "shared libraries" : `file ${m.path}`;
}

const exe = realpathSync(`/proc/${pid}/exe`);
const maps = mappings(pid);
const byKind = new Map<string, { rss: number; priv: number }>();
for (const m of maps) {
  const k = kind(m, exe);
  const row = byKind.get(k) ?? { rss: 0, priv: 0 };
  row.rss += m.rssKb;
  row.priv += m.privateKb;
  byKind.set(k, row);
}
process.stdout.write(`pid ${pid} (${exe}): RSS by mapping, MB (private)\n`);
for (const [k, r] of [...byKind].sort((a, b) => b[1].rss - a[1].rss)) if (r.rss >= 100) process.stdout.write(`  ${mb(r.rss)} (${mb(r.priv).trim()})  ${k}\n`);
process.stdout.write(`  ${mb(maps.reduce((n, m) => n + m.rssKb, 0))}  total\n`);

// The executable's resident pages, as file offsets (a mapping's pages at their offset in the file).
function residentFileOffsets(p: number): Set<number> {
  const fd = openSync(`/proc/${p}/pagemap`, "r");
  const pages = new Set<number>();
  try {
    for (const m of mappings(p)) {
      if (m.path !== exe) continue;
      const n = (m.end - m.start) / PAGE;
      const buf = Buffer.alloc(n * 8);
      readSync(fd, buf, 0, buf.length, (m.start / PAGE) * 8);
      for (let i = 0; i < n; i++) if (buf.readBigUInt64LE(i * 8) >> 63n === 1n) pages.add(m.offset + i * PAGE);
    }
  } finally {
    closeSync(fd);
  }
  return pages;
}

// Symbols by file offset (ELF segments of the node executable are mapped at vaddr - offset = a
// constant per segment; read it from the program headers).
const segments = [...execFileSync("readelf", ["-lW", exe], { encoding: "utf8" }).matchAll(/^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) \S+ 0x([0-9a-f]+)/gm)].map((m) => ({ offset: parseInt(m[1]!, 16), vaddr: parseInt(m[2]!, 16), size: parseInt(m[3]!, 16) }));
const toOffset = (vaddr: number): number => {
  const s = segments.find((g) => vaddr >= g.vaddr && vaddr < g.vaddr + g.size);
  return s === undefined ? -1 : vaddr - s.vaddr + s.offset;
};
const symbols: { at: number; end: number; group: string }[] = [];
for (const line of execFileSync("nm", ["-C", "-S", "--defined-only", "-n", exe], { encoding: "utf8", maxBuffer: 1 << 28 }).split("\n")) {
  const m = /^([0-9a-f]{16}) ([0-9a-f]{16}) \S (.*)$/.exec(line);
  if (!m) continue;
  const at = toOffset(parseInt(m[1]!, 16));
  if (at >= 0) symbols.push({ at, end: at + Math.max(1, parseInt(m[2]!, 16)), group: group(m[3]!) });
}
symbols.sort((a, b) => a.at - b.at);

function group(name: string): string {
  const rules: [RegExp, string][] = [
    [/^Builtins_|embedded_blob/, "V8 builtins"],
    [/^icudt/, "ICU data"],
    [/v8::internal::compiler::turboshaft/, "V8 Turboshaft"],
    [/v8::internal::compiler/, "V8 TurboFan"],
    [/v8::internal::maglev/, "V8 Maglev"],
    [/v8::internal::baseline/, "V8 Sparkplug"],
    [/v8::internal::wasm/, "V8 wasm"],
    [/v8::internal::(interpreter|Parser|PreParser|Scanner|Scope)/, "V8 parser and interpreter"],
    [/v8::internal::(heap|Heap|MarkCompact|Scavenge|Sweeper|ConcurrentMarking|IncrementalMarking)|cppgc/, "V8 GC"],
    [/^v8::|v8::internal::/, "V8, other"],
    [/icu_\d+::|^u[a-z]*_\w+_\d+$/, "ICU code"],
    [/^(ossl_|OSSL|SSL|EVP_|BN_|ERR_|OPENSSL|CRYPTO|RSA|EC_|X509|ASN1|BIO|PEM|OBJ_|tls|ssl|aes|sha|bn_|ec_)/, "OpenSSL"],
    [/^node::crypto|^ncrypto/, "Node crypto"],
    [/^node::http2|^nghttp2/, "HTTP/2"],
    [/^node::/, "Node, other"],
    [/^uv_|^uv__/, "libuv"],
    [/llhttp/, "llhttp"],
    [/^ares/, "c-ares"],
    [/^ada::|simdutf|simdjson/, "ada, simdutf, simdjson"],
    [/^std::|^__gnu|^operator/, "C++ library"],
  ];
  for (const [re, g] of rules) if (re.test(name)) return g;
  return "other";
}

function attribute(offset: number): string {
  let lo = 0;
  let hi = symbols.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (symbols[mid]!.at <= offset) lo = mid;
    else hi = mid - 1;
  }
  const s = symbols[lo];
  if (s !== undefined && s.at <= offset && offset < s.end) return s.group;
  return "unnamed (read-only data: Node's JavaScript sources and code cache, tables; headers)";
}

/** Each page goes to the group owning most of its bytes (sampled every 256 bytes). */
function classify(pages: Iterable<number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pages) {
    const votes = new Map<string, number>();
    for (let o = 0; o < PAGE; o += 256) votes.set(attribute(p + o), (votes.get(attribute(p + o)) ?? 0) + 1);
    const g = [...votes].sort((a, b) => b[1] - a[1])[0]![0];
    out.set(g, (out.get(g) ?? 0) + PAGE / 1024);
  }
  return out;
}

const mine = residentFileOffsets(pid);
const theirs = values.against !== undefined ? residentFileOffsets(Number(values.against)) : new Set<number>();
const all = classify(mine);
const only = classify([...mine].filter((p) => !theirs.has(p)));
process.stdout.write(`\nthe node executable's resident pages, MB${values.against !== undefined ? ` (and those pid ${values.against} does not have)` : ""}\n`);
for (const [g, kb] of [...all].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${mb(kb)}${values.against !== undefined ? ` ${mb(only.get(g) ?? 0)}` : ""}  ${g}\n`);
process.stdout.write(`  ${mb(mine.size * 4)}${values.against !== undefined ? ` ${mb([...mine].filter((p) => !theirs.has(p)).length * 4)}` : ""}  total\n`);
