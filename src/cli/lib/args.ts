// Flag parsing shared by the commands that talk to a running control plane. kubectl habits:
// `--flag value`, `--flag=value`, `-f value`, `-f=value`, repeatable flags, positionals anywhere,
// `--` ends the flags. Anything unknown is a usage error (exit 2), never silently ignored.

export class UsageError extends Error {
  readonly code = "AMIME_USAGE";
}

export interface FlagSpec {
  /** Long name without dashes, e.g. `output`; the key in ParsedArgs. */
  name: string;
  /** One-letter alias without the dash, e.g. `o`. */
  short?: string;
  /** bool: takes no value; string: last one wins; list: repeatable. */
  type: "bool" | "string" | "list";
  /** Allowed values (string and list flags). */
  choices?: readonly string[];
}

export interface ParsedArgs {
  strings: Map<string, string>;
  lists: Map<string, string[]>;
  bools: Set<string>;
  positionals: string[];
}

/** Flags every control-plane command accepts. */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  { name: "help", short: "h", type: "bool" },
  { name: "control-plane", type: "string" },
];

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of [...COMMON_FLAGS, ...specs]) {
    byName.set(`--${s.name}`, s);
    if (s.short) byName.set(`-${s.short}`, s);
  }
  const out: ParsedArgs = { strings: new Map(), lists: new Map(), bools: new Set(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : arg.length > 2 && arg[2] === "=" ? 2 : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byName.get(flag);
    if (spec === undefined) throw new UsageError(`unknown flag ${flag}`);
    if (spec.type === "bool") {
      if (eq > 0) throw new UsageError(`${flag} takes no value`);
      out.bools.add(spec.name);
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[++i];
      // A following flag is not a value (`-o -A`), but `-` (stdin) is.
      if (next === undefined || (next.startsWith("-") && next !== "-")) throw new UsageError(`${flag} needs a value`);
      value = next;
    }
    if (value === "") throw new UsageError(`${flag} needs a non-empty value`);
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(`${flag}: unknown value ${JSON.stringify(value)} (use ${spec.choices.join(", ")})`);
    }
    if (spec.type === "string") out.strings.set(spec.name, value);
    else out.lists.set(spec.name, [...(out.lists.get(spec.name) ?? []), value]);
  }
  return out;
}

/** Runs a command body, turning UsageError into `amime CMD: message` + help on stderr and exit 2. */
export async function withUsage(command: string, help: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`amime ${command}: ${e.message}\n\n${help}`);
    return 2;
  }
}
