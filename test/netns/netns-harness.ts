// Helpers for the netns runtime's tests: skip when not root, and list what a run left behind.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** A skip reason when this process cannot create network namespaces; false when it can. */
export function notRoot(): string | false {
  if (process.getuid?.() !== 0) return "the netns runtime needs root (CI runs as root)";
  if (spawnSync("ip", ["-V"]).status !== 0 || spawnSync("iptables-restore", ["--version"]).status !== 0) return "iproute2 and iptables are not installed";
  return false;
}

/** Namespaces, host links, host routes and /etc/netns directories of a run that still exist. */
export async function netnsLeftovers(runId: string, subnet: number): Promise<string[]> {
  const out: string[] = [];
  const text = (args: string[]): string => spawnSync("ip", args, { encoding: "utf8" }).stdout;
  for (const l of text(["netns", "list"]).split("\n")) if (l.startsWith(`amime-${runId}-`)) out.push(`netns ${l}`);
  for (const l of text(["-o", "link", "show"]).split("\n")) if (l.includes(`am${runId}u`)) out.push(`link ${l}`);
  for (const l of text(["-4", "route", "show"]).split("\n")) if (l.startsWith(`10.${subnet}.`)) out.push(`route ${l}`);
  for (const l of text(["-4", "-o", "addr", "show"]).split("\n")) if (l.includes(` 10.${subnet}.`)) out.push(`addr ${l}`);
  for (const l of spawnSync("ls", ["/etc/netns"], { encoding: "utf8" }).stdout.split("\n")) if (l.startsWith(`amime-${runId}-`) && existsSync(`/etc/netns/${l}`)) out.push(`/etc/netns/${l}`);
  if (existsSync(`/run/amime-${runId}`)) out.push(`/run/amime-${runId}`);
  return out;
}
