// Finding an injected pod's network namespace on its node without a CNI hook, as Istio CNI's
// node agent does for pods it was not told about: every host process's /proc/<pid>/ns/net
// (hostPID), grouped by the namespace's inode, and each namespace's local IPv4 addresses read
// from /proc/<pid>/net/fib_trie (the `/32 host LOCAL` entries of the kernel's routing trie, which
// any process can read for its own namespace and root for every one). A pod is the namespace
// holding its pod IP. The host's own namespace is never a match (hostNetwork pods are skipped
// before they get here). The namespace is then entered through an open file descriptor of its
// ns file, checked by inode, so a pid reused meanwhile cannot point the rules elsewhere.
import { open, readdir, readFile, readlink, type FileHandle } from "node:fs/promises";

/** The IPv4 addresses a fib_trie dump lists as local to its namespace (`/32 host LOCAL`). */
export function localIPv4(fibTrie: string): string[] {
  const out = new Set<string>();
  let last: string | null = null;
  for (const line of fibTrie.split("\n")) {
    const leaf = /\|-- (\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf !== null) {
      last = leaf[1] as string;
      continue;
    }
    if (last !== null && /^\s+\/32 host LOCAL\b/.test(line)) out.add(last);
  }
  return [...out];
}

/** A network namespace by one process in it: `/proc/<pid>/ns/net` and the namespace's inode. */
export interface NetnsRef {
  pid: number;
  inode: number;
}

/** The inode in a `net:[4026532281]` link. */
function inodeOf(link: string): number | null {
  const m = /^net:\[(\d+)\]$/.exec(link);
  return m === null ? null : Number(m[1]);
}

/**
 * Every network namespace of the host's processes but `proc`'s own (the host's, for a hostNetwork
 * agent), each with the local IPv4 addresses in it: address → namespace. Processes that exit
 * during the scan are skipped.
 */
export async function scanNetns(proc = "/proc"): Promise<Map<string, NetnsRef>> {
  const own = inodeOf(await readlink(`${proc}/self/ns/net`));
  const byInode = new Map<number, number>();
  for (const name of await readdir(proc)) {
    if (!/^\d+$/.test(name)) continue;
    const inode = inodeOf(await readlink(`${proc}/${name}/ns/net`).catch(() => ""));
    if (inode === null || inode === own || byInode.has(inode)) continue;
    byInode.set(inode, Number(name));
  }
  const out = new Map<string, NetnsRef>();
  for (const [inode, pid] of byInode) {
    const trie = await readFile(`${proc}/${pid}/net/fib_trie`, "utf8").catch(() => null);
    if (trie === null) continue;
    for (const address of localIPv4(trie)) if (!out.has(address)) out.set(address, { pid, inode });
  }
  return out;
}

/**
 * An open descriptor of the namespace `ref` names, or null when its process is gone or now in
 * another namespace (the caller scans again). The caller closes it.
 */
export async function openNetns(ref: NetnsRef, proc = "/proc"): Promise<FileHandle | null> {
  const fh = await open(`${proc}/${ref.pid}/ns/net`, "r").catch(() => null);
  if (fh === null) return null;
  const st = await fh.stat().catch(() => null);
  if (st?.ino !== ref.inode) {
    await fh.close();
    return null;
  }
  return fh;
}
