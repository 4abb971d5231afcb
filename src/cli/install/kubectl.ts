// Handing manifests to kubectl (`--apply`): the user's kubectl and kubeconfig decide where they
// go, as with `kubectl apply -f -` by hand.
import { spawn } from "node:child_process";

export interface KubectlTarget {
  kubectl: string;
  kubeconfig?: string;
  context?: string;
}

/** Run kubectl with `input` on stdin, its output passed through; resolves with its exit code. */
export function kubectl(t: KubectlTarget, args: readonly string[], input: string): Promise<number> {
  const full = [...(t.kubeconfig !== undefined ? ["--kubeconfig", t.kubeconfig] : []), ...(t.context !== undefined ? ["--context", t.context] : []), ...args];
  return new Promise((resolve) => {
    const child = spawn(t.kubectl, full, { stdio: ["pipe", "inherit", "inherit"] });
    child.once("error", (e) => {
      process.stderr.write(`cannot run ${t.kubectl}: ${e.message} (install kubectl or pass --kubectl PATH)\n`);
      resolve(1);
    });
    child.once("close", (code) => resolve(code ?? 1));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}
