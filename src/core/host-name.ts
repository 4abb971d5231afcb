// The host's name (Envoy's `%HOSTNAME%`: gethostname(2)) without loading `node:os`. On Linux the
// kernel gives the same name (the UTS namespace's nodename, which gethostname reads) in
// /proc/sys/kernel/hostname; elsewhere, or if that file cannot be read, `os.hostname()`. `node:os`
// and its binding were the only built-ins a running sidecar loaded beyond what Node loads to listen
// and to do TLS (issue 15; docs/performance.md, "Session 18: the builtins and native state of the push").
import { fs } from "./builtins.ts";

const PROC_HOSTNAME = "/proc/sys/kernel/hostname";

/** This host's name, as gethostname(2) gives it. Read once per call: call it at start. */
export function hostName(): string {
  if (process.platform === "linux") {
    try {
      const name = fs.readFileSync(PROC_HOSTNAME, "latin1").replace(/\n$/, "");
      if (name !== "") return name;
    } catch {
      // No procfs (a sandbox without /proc): ask libuv.
    }
  }
  return process.getBuiltinModule("node:os").hostname();
}
