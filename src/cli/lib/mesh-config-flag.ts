// The `--mesh-config FILE` flag of the commands that start a control plane (control-plane, up):
// the file's findings go to stderr with file:line, and errors stop the command.
import { formatDiagnostic } from "../../model/diagnostic.ts";
import { loadMeshConfig } from "../../config/read-files.ts";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";

/**
 * The MeshConfig in `path` (undefined without the flag), its findings printed; null when it has
 * errors, after one `amime COMMAND: the mesh config PATH has errors; OUTCOME` line.
 */
export async function meshConfigFlag(command: string, path: string | undefined, outcome: string): Promise<MeshConfig | undefined | null> {
  if (path === undefined) return undefined;
  const loaded = await loadMeshConfig(path);
  for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (loaded.config) return loaded.config;
  process.stderr.write(`amime ${command}: the mesh config ${path} has errors; ${outcome}\n`);
  return null;
}
