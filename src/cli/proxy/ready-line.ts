// The JSON line \`amime proxy\` prints once every listener is bound (tests, the bench and the
// runtimes read it): the config version, the listeners' ports, the admin port (null: none), the
// status port when there is one, and with --xds the node id.
import type { Sidecar } from "../../proxy/sidecar.ts";

export function readyLine(s: Sidecar, node?: string): string {
  const line = { ready: true, version: s.config.version, listeners: s.ports(), admin: s.adminPort ?? null, ...(s.statusPort !== undefined ? { status: s.statusPort } : {}), ...(node !== undefined ? { node } : {}) };
  return `${JSON.stringify(line)}\n`;
}
