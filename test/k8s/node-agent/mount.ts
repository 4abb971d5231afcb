// How a container's process is started: in the pod's network namespace (`ip netns exec`, which
// also binds the pod's /etc/hosts and resolv.conf), in a private mount and UTS namespace of its own
// (`unshare --mount --uts`, as a container runtime gives each container), where a small sh script
// sets the pod's host name, bind-mounts each volume directory at its mountPath (read-only when
// asked) and then execs the program as the container's user (`setpriv`, runAsUser / runAsGroup).
//
// The container shares the host's root file system (there is no image), so:
// - a mountPath that does not exist on the host is created there as an empty directory (a
//   container's mountpoint lives in its image; here it is left behind, empty, on the host);
// - a mountPath above what the program needs (an emptyDir on /tmp when the checkout is under /tmp)
//   would hide it: those paths (`keep`) are bound into the volume first, so they stay visible;
// - an exec (probe, postStart hook) runs in the container's namespaces with `nsenter`;
// - `readOnlyRootFilesystem`: the root mount is made read-only in the container's own mount
//   namespace once its volumes are mounted (they stay writable, as in a container; so does any
//   other separate mount of the host, such as /proc or /dev), so the checkout, the image's /amime,
//   is read-only too, as in the image.
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface Identity {
  uid: number;
  gid: number;
}

/** Single-quoted for sh. */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The path a mount lands on: symlinks of its existing part resolved (/var/run → /run). */
export function resolveTarget(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(existing.slice(dirname(existing).length).replace(/^\/+/, ""));
    existing = dirname(existing);
  }
  return join(realpathSync(existing), ...rest);
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The sh script run in the new namespaces; the program's argv follows as "$@". */
export function launchScript(opts: { hostname: string; mounts: readonly Mount[]; keep: readonly string[]; workingDir: string; user: Identity | null; readOnlyRoot?: boolean }): string {
  const lines = ["set -e", `hostname ${shQuote(opts.hostname)}`];
  const mounts = opts.mounts.map((m) => ({ ...m, target: resolveTarget(m.target) })).sort((a, b) => a.target.split(sep).length - b.target.split(sep).length);
  for (const m of mounts) {
    lines.push(`mkdir -p ${shQuote(m.target)}`);
    for (const k of opts.keep) {
      if (!under(k, m.target)) continue;
      const inside = join(m.source, relative(m.target, k));
      lines.push(`mkdir -p ${shQuote(inside)}`, `mount --rbind ${shQuote(k)} ${shQuote(inside)}`);
    }
    lines.push(`mount --rbind ${shQuote(m.source)} ${shQuote(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${shQuote(m.target)}`);
  }
  if (opts.readOnlyRoot === true) lines.push("mount -o remount,bind,ro /");
  lines.push(`cd ${shQuote(opts.workingDir)}`);
  // Tell the agent the namespaces are made (fd 3), so a hook or exec probe entering them sees the mounts.
  lines.push("printf up >&3", "exec 3>&-");
  lines.push(opts.user === null || opts.user.uid === 0 ? 'exec "$@"' : `exec setpriv --reuid=${opts.user.uid} --regid=${opts.user.gid} --clear-groups -- "$@"`);
  return lines.join("\n");
}

/** The command line that starts a container's process in pod namespace `netns` (null: the host's network, a hostNetwork pod). */
export function launchArgv(netns: string | null, script: string, argv: readonly string[]): string[] {
  return [...(netns === null ? [] : ["ip", "netns", "exec", netns]), "unshare", "--mount", "--uts", "--propagation", "private", "--", "sh", "-c", script, "sh", ...argv];
}

/** The command line that runs `argv` inside a running container (process `pid`): exec probes, hooks. */
export function execArgv(pid: number, user: Identity | null, workingDir: string, argv: readonly string[]): string[] {
  const as = user === null || user.uid === 0 ? [] : ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--"];
  return ["nsenter", "-t", String(pid), "-m", "-u", "-n", `--wd=${workingDir}`, "--", ...as, ...argv];
}
