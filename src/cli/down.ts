// `amime down`: stop the mesh `amime up` runs in this directory (or the nearest parent with a
// state file), and remove what a netns mesh made even when `amime up` is gone (kill -9, a crash):
// its process groups, network namespaces, host link and /etc/netns files. docs/netns.md.
import type { Command } from "./command.ts";
import { readFlags, runParsed, UsageError } from "./lib/args.ts";
import { findStateFile, isAlive, type UpState } from "../runtime/local/state-file.ts";
import { removeNetns } from "../runtime/netns/network.ts";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";

export const DOWN_HELP = `Usage: amime down

Stop the mesh that \`amime up\` runs in this directory (found through .amime/up.json here or in
the nearest parent, as exec and apply find it): SIGTERM to amime up, which stops everything.
When amime up is already gone (kill -9, a crash), amime down does its clean-up: it kills the
process groups the state file lists and, for \`--runtime netns\`, removes every network
namespace, the host link and route, and the /etc/netns files of that run, then the state file.

Options:
  -h, --help   show this help

Exit status: 0 when nothing of the mesh is left, 1 when there is no state file or something
could not be removed.
`;

const write = (l: string): void => void process.stdout.write(`amime down: ${l}\n`);

export const downCommand: Command = {
  name: "down",
  run: runParsed(
    "down",
    DOWN_HELP,
    (argv) => ({
      help: readFlags(argv, {}, (arg) => {
        throw new UsageError(`unexpected argument "${arg}"`);
      }),
    }),
    async () => {
      const found = await findStateFile(process.cwd());
      if (!found) {
        process.stderr.write("amime down: no .amime/up.json here or in a parent directory: no mesh to stop\n");
        return 1;
      }
      let state: UpState;
      try {
        state = JSON.parse(found.text) as UpState;
      } catch (e) {
        process.stderr.write(`amime down: ${found.file} is not valid JSON (${(e as Error).message})\n`);
        return 1;
      }
      if (isAlive(state.pid)) {
        write(`stopping amime up (pid ${state.pid})`);
        process.kill(state.pid, "SIGTERM");
        const deadline = Date.now() + 15_000;
        while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        if (isAlive(state.pid)) {
          write(`amime up (pid ${state.pid}) still runs after 15 s: killing it`);
          process.kill(state.pid, "SIGKILL");
        } else {
          // It cleaned up after itself (and removed the state file) unless it crashed meanwhile.
          const again = await findStateFile(dirname(dirname(found.file)));
          if (again?.file !== found.file) {
            write("stopped");
            return 0;
          }
        }
      }
      for (const g of [...state.instances.flatMap((i) => [i.pid, i.sidecarPid]), state.gatewayPid]) {
        if (g === null || g === undefined) continue;
        try {
          process.kill(-g, "SIGKILL");
        } catch {
          // that group is gone already
        }
      }
      let problems: string[] = [];
      if (state.network) {
        problems = await removeNetns(state.network);
        write(`removed ${state.network.pods.length} pod namespace(s), ${state.network.nodes.length} node namespace(s) (${state.network.nodes.join(", ")}), ${state.network.wireNetns}, ${state.network.hostLink} and the run's files`);
      }
      for (const p of problems) process.stderr.write(`amime down: could not remove: ${p}\n`);
      await rm(found.file, { force: true });
      write(`removed ${found.file}`);
      return problems.length === 0 ? 0 : 1;
    },
  ),
};
