// Runs one command as `amime` does (main.ts, and the sidecar's own entry, run-proxy.ts): its exit
// code, or 1 and one line on stderr for anything it throws.
import type { Command } from "./command.ts";

export async function runCommand(name: string, load: () => Promise<Command>, args: readonly string[]): Promise<number> {
  try {
    return await (await load()).run(args);
  } catch (e) {
    // Commands report their own errors; anything escaping is a bug, but never a stack dump for users.
    process.stderr.write(`amime ${name}: ${(e as Error).message}\n`);
    if (process.env.AMIME_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}
