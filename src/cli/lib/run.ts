// The frame every control-plane command runs in: usage errors → help on stderr and exit 2; no or
// unreachable control plane, or an error answer → one `amime CMD: message` line and exit 1.
import { UsageError, type ParsedArgs } from "./args.ts";
import { ControlPlaneAddressError, discoverControlPlane } from "./control-plane-address.ts";
import { ControlPlaneClient, ControlPlaneError } from "./control-plane-client.ts";
import { discoverCredential } from "./credential.ts";
import { discoverRootCert } from "./root-cert.ts";

/** An expected failure a command reports in one line as written (exit 1), e.g. NotFound. */
export class CommandError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export async function runCommand(command: string, help: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`amime ${command}: ${e.message}\n\n${help}`);
      return 2;
    }
    if (e instanceof CommandError) {
      // Already phrased for the user (kubectl's `Error from server (NotFound): …`).
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    if (e instanceof ControlPlaneAddressError || e instanceof ControlPlaneError) {
      process.stderr.write(`amime ${command}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** A client for the control plane the flags, the environment or `.amime/up.json` point to. */
export async function connect(args: ParsedArgs): Promise<ControlPlaneClient> {
  const address = await discoverControlPlane({ flag: args.strings.get("control-plane") });
  const credential = await discoverCredential({ flag: args.strings.get("token-file"), address });
  const rootCert = await discoverRootCert({ address, ...(credential ? { credential } : {}) });
  return new ControlPlaneClient(address.url, { from: address.from, ...(credential ? { credential } : {}), ...(rootCert ? { rootCert } : {}) });
}

/** Prints help and returns true when -h/--help was given. */
export function helpRequested(args: ParsedArgs, help: string): boolean {
  if (!args.bools.has("help")) return false;
  process.stdout.write(help);
  return true;
}
