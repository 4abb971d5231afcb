// The state file `.amime/up.json` in the directory `amime up` runs in: how other commands
// (`amime exec`, `apply`, `get`, `proxy-status`) find the running mesh, all through the one
// lookup below (the current directory, then its parents, as git finds .git). Written once everything
// is started, rewritten when a process restarts (new pid), removed on exit.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

export interface UpStateInstance {
  name: string;
  namespace: string;
  workload: string;
  /** The app's port (first declared port); null when the workload declares none. */
  appPort: number | null;
  outboundPort: number;
  /** The sidecar's inbound port for the first declared port (what peers dial); null without ports. */
  inboundPort: number | null;
  adminPort: number;
  /** The app's process group leader (its guard), null while it is down. */
  pid: number | null;
  /** The sidecar's process group leader, null while it is down. */
  sidecarPid: number | null;
  serviceAccount: string;
  /** false: runs without a sidecar (`sidecar.istio.io/inject: "false"`); inboundPort is then the app's port. */
  sidecar?: boolean;
  /** netns runtime: the pod's network namespace and IP. */
  netns?: string;
  ip?: string;
  /** netns runtime: the node namespace ("machine") the pod runs on. */
  node?: string;
}

/** What a netns run created (network.ts), as kept in the state file: enough to remove it all. */
export interface NetnsResources {
  runId: string;
  subnet: number;
  /** The wire between the machines. */
  wireNetns: string;
  /** One per node ("machine"). */
  nodes: string[];
  hostLink: string;
  pods: string[];
}

export interface UpState {
  /** Absent: the local runtime. */
  runtime?: "local" | "netns";
  /** netns runtime: every namespace and link it made (what `amime down` removes after a crash). */
  network?: NetnsResources;
  controlPlane: string;
  ingress: string | null;
  pid: number;
  dir: string;
  /** The ingress gateway's process group leader. */
  gatewayPid: number | null;
  instances: UpStateInstance[];
}

export const STATE_DIR = ".amime";
export const STATE_FILE = "up.json";

export function statePath(dir: string): string {
  return join(dir, STATE_DIR, STATE_FILE);
}

let tmpCounter = 0;

export async function writeState(dir: string, state: UpState): Promise<void> {
  await mkdir(join(dir, STATE_DIR), { recursive: true });
  // Write then rename, so a reader never sees half a file.
  const tmp = `${statePath(dir)}.${process.pid}.${++tmpCounter}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + "\n");
  await rename(tmp, statePath(dir));
}

export class NoStateFile extends Error {
  readonly code = "AMIME_NOT_UP";
}

/** A state file that exists but cannot be read (EACCES, EISDIR…): reported, not skipped for a parent's. */
export class StateFileUnreadable extends Error {
  readonly code = "AMIME_STATE_UNREADABLE";
}

/** The nearest `.amime/up.json` from `start` upwards, with its text; undefined when there is none. */
export async function findStateFile(start: string): Promise<{ file: string; text: string } | undefined> {
  let dir = resolve(start);
  for (;;) {
    const file = statePath(dir);
    try {
      return { file, text: await readFile(file, "utf8") };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw new StateFileUnreadable(`cannot read ${file}: ${(e as Error).message}`);
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The running mesh nearest to `start` (that directory or a parent); NoStateFile when none is, or its amime up is gone. */
export async function readState(start: string): Promise<UpState> {
  const found = await findStateFile(start);
  if (found === undefined) throw new NoStateFile(`no running mesh here (no ${join(STATE_DIR, STATE_FILE)} in ${resolve(start)} or its parents; start one with \`amime up -f DIR\`)`);
  let state: UpState;
  try {
    state = JSON.parse(found.text) as UpState;
  } catch (e) {
    throw new NoStateFile(`${found.file} is not valid JSON (${(e as Error).message}); remove it`);
  }
  if (!isAlive(state.pid)) throw new NoStateFile(`the mesh in ${found.file} is not running (pid ${state.pid} is gone)`);
  return state;
}

export async function removeState(dir: string): Promise<void> {
  await rm(statePath(dir), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
