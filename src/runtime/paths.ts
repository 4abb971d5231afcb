// Where the running Amime lives: the repository root (for node_modules/.bin on PATH) and the CLI
// entry point the sidecars and the gateway are started with.
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const AMIME_BIN = join(REPO_ROOT, "bin", "amime.js");
