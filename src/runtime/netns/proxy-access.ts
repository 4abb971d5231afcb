// Sidecars in pods run as UID/GID 1337 (capture-rules.ts) and start `node dist/bundle/run-proxy.js proxy`
// (the built JavaScript tree, src/runtime/js-build/) from this installation, so the files they load
// and every directory above them must be open to that user. A checkout under a private directory
// (a 0700 temp directory, /root) is not: each sidecar would exit at start with EACCES and restart
// forever. This check names the directory instead.
import { realpath, stat } from "node:fs/promises";
import { dirname, join, sep } from "node:path";

export interface Needed {
  path: string;
  /** "r" to read a file, "x" to execute one. */
  access: "r" | "x";
}

/** The first path that `uid`/`gid` cannot reach, with why, or null when every one is reachable. */
export async function firstUnreachable(needed: readonly Needed[], uid: number, gid: number): Promise<string | null> {
  for (const n of needed) {
    const file = await realpath(n.path);
    for (const dir of ancestors(dirname(file))) {
      const why = await denied(dir, "x", uid, gid);
      if (why) return `${dir} (${why}, on the way to ${file})`;
    }
    const why = await denied(file, n.access, uid, gid);
    if (why) return `${file} (${why})`;
  }
  return null;
}

function ancestors(dir: string): string[] {
  const parts = dir.split(sep).filter(Boolean);
  return parts.map((_, i) => join(sep, ...parts.slice(0, i + 1)));
}

async function denied(path: string, access: "r" | "x", uid: number, gid: number): Promise<string | null> {
  const s = await stat(path);
  const bit = access === "r" ? 0o4 : 0o1;
  const shift = s.uid === uid ? 6 : s.gid === gid ? 3 : 0;
  if (s.mode & (bit << shift)) return null;
  const who = shift === 6 ? "owner" : shift === 3 ? "group" : "others";
  return `mode ${(s.mode & 0o777).toString(8).padStart(4, "0")}: no ${access === "r" ? "read" : "search/execute"} permission for ${who}`;
}
