// Command: one sub-command of the `amime` CLI. Each lives in its own file in cli/ and is listed,
// with its one-line summary, in commands.ts (which loads the file only when the command runs).
export interface Command {
  name: string;
  /** Returns the process exit code: 0 ok, 1 failure (e.g. invalid config), 2 usage error. */
  run(args: readonly string[]): Promise<number>;
}
