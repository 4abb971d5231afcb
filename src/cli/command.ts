// Command: one sub-command of the `amime` CLI. Each lives in its own file in cli/ and is listed in commands.ts.
export interface Command {
  name: string;
  summary: string;
  /** Returns the process exit code: 0 ok, 1 failure (e.g. invalid config), 2 usage error. */
  run(args: readonly string[]): Promise<number>;
}
