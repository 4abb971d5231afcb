// Flag parsing shared by the CLI commands. kubectl habits: `--flag value`, `--flag=value`,
// `-f value`, `-f=value`, repeatable flags. Anything unknown is a usage error (exit 2), never
// silently ignored. Two shapes over one reading of `--flag=value`:
// - parseArgs: declarative specs, for the commands that talk to a running control plane
//   (positionals anywhere, `--` ends the flags);
// - readFlags (over walkFlags, one flag at a time): a reader per flag, for the commands that start
//   something (proxy, control-plane, up) and give each flag its own check and message.

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
  { name: "token-file", type: "string" },
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
    const { flag, inline } = splitFlag(arg);
    const spec = byName.get(flag);
    if (spec === undefined) throw new UsageError(`unknown flag ${flag}`);
    if (spec.type === "bool") {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
      out.bools.add(spec.name);
      continue;
    }
    let value: string;
    if (inline !== undefined) value = inline;
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

/** `--name=value` and `-x=value` carry their value inline; any other argument is all flag. */
export function splitFlag(arg: string): { flag: string; inline?: string } {
  const eq = arg.startsWith("--") ? arg.indexOf("=") : arg.startsWith("-") && arg[2] === "=" ? 2 : -1;
  return eq > 0 ? { flag: arg.slice(0, eq), inline: arg.slice(eq + 1) } : { flag: arg };
}

/** One argument met by walkFlags. The value readers throw UsageError(`${flag} needs ${what}`). */
export interface Flag {
  /** The argument as given, e.g. `--port=80`. */
  readonly arg: string;
  /** The argument without its inline value, e.g. `--port`; a positional stays whole. */
  readonly flag: string;
  /** The inline value, or else the next argument, taken whatever it looks like (`--admin-port -1`). */
  value(): string | undefined;
  /** value(), which must be there and not empty. */
  required(what: string): string;
  /** value() as a whole number from min to max (Number() rules). */
  integer(min: number, max: number, what: string): number;
}

/** Walks argv one argument at a time; a value reader called on an argument takes the next one. */
export function* walkFlags(argv: readonly string[]): Generator<Flag> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const { flag, inline } = splitFlag(arg);
    const value = (): string | undefined => inline ?? argv[++i];
    const required = (what: string): string => {
      const v = value();
      if (v === undefined || v === "") throw new UsageError(`${flag} needs ${what}`);
      return v;
    };
    const integer = (min: number, max: number, what: string): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`${flag} needs ${what}`);
      return v;
    };
    yield { arg, flag, value, required, integer };
  }
}

/** A command's flags: one reader per flag, keyed as its --help lists the flag (`"-f, --filename"`). */
export type FlagReaders = Readonly<Record<string, (f: Flag) => void>>;

/**
 * Reads argv through `readers`; returns whether -h/--help was given. Any other argument the readers
 * do not name is a UsageError, `unknown option "ARG"`, or (given `positional`) what `positional` throws
 * for an argument that is not a flag.
 */
export function readFlags(argv: readonly string[], readers: FlagReaders, positional?: (arg: string) => never): boolean {
  const byFlag = new Map<string, (f: Flag) => void>();
  for (const [names, read] of Object.entries(readers)) for (const name of names.split(", ")) byFlag.set(name, read);
  let help = false;
  for (const f of walkFlags(argv)) {
    const read = byFlag.get(f.flag);
    if (read !== undefined) read(f);
    else if (f.flag === "-h" || f.flag === "--help") help = true;
    else if (positional !== undefined && !f.arg.startsWith("-")) positional(f.arg);
    else throw new UsageError(`unknown option "${f.arg}"`);
  }
  return help;
}

/**
 * `run` for a command with its own flag parser: -h/--help (`help: true`) prints `help` and exits 0;
 * a UsageError from the parser or the body prints `amime CMD: message` + help, exit 2.
 */
export function runParsed<A extends { help: boolean }>(command: string, help: string, parse: (argv: readonly string[]) => A, body: (args: A) => Promise<number>): (argv: readonly string[]) => Promise<number> {
  return (argv) =>
    withUsage(command, help, async () => {
      const args = parse(argv);
      if (!args.help) return body(args);
      process.stdout.write(help);
      return 0;
    });
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
