// The list of `amime` commands, in the order `amime --help` shows them. One line per command.
import { analyzeCommand } from "./analyze.ts";
import type { Command } from "./command.ts";
import { proxyCommand } from "./proxy.ts";
import { validateCommand } from "./validate.ts";

export const commands: Command[] = [
  validateCommand,
  analyzeCommand,
  proxyCommand,
];
