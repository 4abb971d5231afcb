// The list of `amime` commands, in the order `amime --help` shows them. One line per command.
import { analyzeCommand } from "./analyze.ts";
import { applyCommand } from "./apply.ts";
import { caCommand } from "./ca.ts";
import type { Command } from "./command.ts";
import { controlPlaneCommand } from "./control-plane.ts";
import { deleteCommand } from "./delete.ts";
import { execCommand } from "./exec.ts";
import { explainCommand } from "./explain.ts";
import { getCommand } from "./get.ts";
import { proxyConfigCommand } from "./proxy-config.ts";
import { proxyStatusCommand } from "./proxy-status.ts";
import { proxyCommand } from "./proxy.ts";
import { ratelimitServiceCommand } from "./ratelimit-service.ts";
import { topCommand } from "./top.ts";
import { upCommand } from "./up.ts";
import { validateCommand } from "./validate.ts";

export const commands: Command[] = [
  validateCommand,
  upCommand,
  execCommand,
  analyzeCommand,
  proxyCommand,
  controlPlaneCommand,
  applyCommand,
  deleteCommand,
  getCommand,
  proxyStatusCommand,
  proxyConfigCommand,
  explainCommand,
  topCommand,
  ratelimitServiceCommand,
  caCommand,
];
