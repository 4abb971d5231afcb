// Where the control plane is: `--control-plane URL`, else $AMIME_CONTROL_PLANE, else the state file
// `.amime/up.json` that `amime up` writes, looked up in the current directory and its parents (as
// git finds .git), else a clear error. See docs/cli.md.
import { join } from "node:path";
import { findStateFile as findNearestState } from "../../runtime/local/state-file.ts";

export const STATE_FILE = join(".amime", "up.json");
export const CONTROL_PLANE_ENV = "AMIME_CONTROL_PLANE";

export class ControlPlaneAddressError extends Error {
  readonly code: "AMIME_NO_CONTROL_PLANE" | "AMIME_BAD_CONTROL_PLANE";
  constructor(code: ControlPlaneAddressError["code"], message: string) {
    super(message);
    this.code = code;
  }
}

export interface ControlPlaneAddress {
  /** Base URL without a trailing slash, e.g. `https://127.0.0.1:15010`. */
  url: string;
  /** How it was found, for error messages (`--control-plane`, `$AMIME_CONTROL_PLANE`, `/dir/.amime/up.json`). */
  from: string;
}

/** What `amime up` writes to `.amime/up.json`. */
export interface UpState {
  controlPlane: string;
  ingress?: string;
  pid?: number;
  dir?: string;
}

export const NO_CONTROL_PLANE = "no control plane: start one with `amime up -f DIR` or pass --control-plane URL";

export async function discoverControlPlane(opts: { flag?: string; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<ControlPlaneAddress> {
  if (opts.flag !== undefined) return { url: normalizeUrl(opts.flag, "--control-plane"), from: "--control-plane" };
  const fromEnv = (opts.env ?? process.env)[CONTROL_PLANE_ENV];
  if (fromEnv) return { url: normalizeUrl(fromEnv, `$${CONTROL_PLANE_ENV}`), from: `$${CONTROL_PLANE_ENV}` };
  const found = await findStateFile(opts.cwd ?? process.cwd());
  if (found !== undefined) return found;
  throw new ControlPlaneAddressError("AMIME_NO_CONTROL_PLANE", NO_CONTROL_PLANE);
}

/** The nearest `.amime/up.json` from `start` upwards, parsed; undefined when there is none (the lookup `amime exec` uses too). */
export async function findStateFile(start: string): Promise<ControlPlaneAddress | undefined> {
  let found: { file: string; text: string } | undefined;
  try {
    found = await findNearestState(start);
  } catch (e) {
    // Unreadable for another reason (EACCES, EISDIR): say so rather than look further up.
    throw new ControlPlaneAddressError("AMIME_BAD_CONTROL_PLANE", (e as Error).message);
  }
  return found === undefined ? undefined : { url: parseState(found.text, found.file), from: found.file };
}

function parseState(text: string, file: string): string {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (e) {
    throw new ControlPlaneAddressError("AMIME_BAD_CONTROL_PLANE", `${file} is not valid JSON (${(e as Error).message}); remove it or pass --control-plane URL`);
  }
  const cp = typeof state === "object" && state !== null ? (state as Partial<UpState>).controlPlane : undefined;
  if (typeof cp !== "string" || cp === "") {
    throw new ControlPlaneAddressError("AMIME_BAD_CONTROL_PLANE", `${file} has no "controlPlane" address; remove it or pass --control-plane URL`);
  }
  return normalizeUrl(cp, file);
}

/** `127.0.0.1:15010` → `https://127.0.0.1:15010` (the control plane serves TLS only); rejects anything that is not an http(s) URL. */
export function normalizeUrl(raw: string, from: string): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ControlPlaneAddressError("AMIME_BAD_CONTROL_PLANE", `control plane address ${JSON.stringify(raw)} (from ${from}) is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ControlPlaneAddressError("AMIME_BAD_CONTROL_PLANE", `control plane address ${JSON.stringify(raw)} (from ${from}) must be http:// or https://`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}
