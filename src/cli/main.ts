// The `amime` command: parses the sub-command and hands over to one file per command.
import { commands } from "./commands.ts";
import { runCommand } from "./run-command.ts";

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "version") {
    process.stdout.write("amime 0.1.0\n");
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`amime: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return runCommand(name, cmd.load, rest);
}

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: amime <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun \`amime <command> --help\` for a command's options.\n`;
}
