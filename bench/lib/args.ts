// Command-line flags of the bench scripts: node:util's parseArgs, with a clear one-line error and the
// script's usage (exit 2) instead of a stack trace when a flag is unknown or lacks its value.
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";

/** parseArgs(config), or exit 2 naming the script and the bad flag; `usage` is printed after it. */
export function benchArgs<T extends ParseArgsConfig>(config: T, usage = ""): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    return exitWithUsage((e as Error).message, usage);
  }
}

/** Print `bench/NAME: message` and the usage (or where to find it) to stderr; exit 2. */
export function exitWithUsage(message: string, usage = ""): never {
  const benchDir = join(dirname(fileURLToPath(import.meta.url)), "..");
  const script = relative(benchDir, process.argv[1] ?? benchDir);
  console.error(`bench/${script}: ${message}`);
  console.error(usage !== "" ? usage : `(its flags are described at the top of bench/${script})`);
  process.exit(2);
}
