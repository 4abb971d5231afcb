// The test node agent's "images": which local command stands in for a container image. There is
// no container engine here, so an image is a name in this table, run from this checkout:
//
// | image | entrypoint | image env |
// |---|---|---|
// | `{docker.io/istio,istio,registry.istio.io/release}/examples-bookinfo-{details,ratings,productpage}-v1[:tag]` | `node samples/bookinfo/apps/<app>.ts` | — |
// | `…/examples-bookinfo-reviews-v{1,2,3}[:tag]` | `node samples/bookinfo/apps/reviews.ts` | `REVIEWS_VERSION=v<n>` |
// | an Amime image the agent is told about (`amimeImages`) | `node bin/amime.js`; `command` may name `node` (the checkout's Node), `amime`, `pilot-agent`; the image's `/amime/…` is this checkout (`/amime/dist/…`: the built tree, which the agent builds at start as `amime up` does) | — |
// | `{docker.io/istio,istio,registry.istio.io/release}/tcp-echo-server[:tag]` | `node samples/tcp-echo/tcp-echo-server.ts` | — |
// | `[docker.io/library/]busybox[:tag]` | none; cmd `sh`: the host's programs (`sh`, `cat`, `env`, `id`, `sleep`, `hostname` from the host) | — |
//
// As with a container runtime, a container's `command` replaces the entrypoint and its `args` the
// image's (empty) cmd, and `$(VAR)` in both is expanded from the container's environment. An
// entrypoint can only be replaced by a program the image holds: in the Amime image (see the
// Dockerfile) that is `node`, `amime` (or `pilot-agent`, as Istio's hooks name it), in a bookinfo
// image nothing. Any other
// image fails the container with `ErrImagePull`, as a kubelet reports an image it cannot pull.
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..", "..");
export const NODE = join(ROOT, "node_modules", ".bin", "node");
export const CHECKOUT = ROOT;

/** The Amime image's WORKDIR (Dockerfile). */
export const IMAGE_WORKDIR = "/amime";
const BOOKINFO = /^(?:docker\.io\/istio|istio|registry\.istio\.io\/release)\/examples-bookinfo-(details|ratings|productpage|reviews)-(v[1-3])(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/;
const TCP_ECHO = /^(?:docker\.io\/istio|istio|registry\.istio\.io\/release)\/tcp-echo-server(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/;
const BUSYBOX = /^(?:docker\.io\/library\/)?busybox(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/;
const BUSYBOX_PROGRAMS = ["sh", "cat", "env", "id", "sleep", "hostname", "true", "false"];

/** Why a container cannot start: the kubelet's waiting reason and its message. */
export class ContainerStartError extends Error {
  readonly reason: "ErrImagePull" | "RunContainerError" | "CreateContainerConfigError";
  constructor(reason: ContainerStartError["reason"], message: string) {
    super(message);
    this.name = "ContainerStartError";
    this.reason = reason;
  }
}

export interface LocalImage {
  entrypoint: string[];
  /** The image's CMD (args when the container gives none); with no entrypoint, its first word is a program. */
  cmd?: string[];
  env: Record<string, string>;
  /** The programs `command` may name, by basename, mapped to their local command. */
  programs: Record<string, string[]>;
  /** The image's own directory, which is this checkout here: `<workdir>/x` in argv is `<checkout>/x`. */
  workdir?: string;
}

/** The local stand-in for `image`; throws ErrImagePull for an image the table does not hold. */
export function localImage(image: string, amimeImages: readonly string[]): LocalImage {
  if (amimeImages.includes(image)) {
    const amime = [NODE, join(ROOT, "bin", "amime.js")];
    return { entrypoint: amime, env: {}, programs: { amime, "pilot-agent": amime, node: [NODE] }, workdir: IMAGE_WORKDIR };
  }
  if (BUSYBOX.test(image)) {
    return { entrypoint: [], cmd: ["sh"], env: {}, programs: Object.fromEntries(BUSYBOX_PROGRAMS.map((p) => [p, [`/bin/${p}`]])) };
  }
  if (TCP_ECHO.test(image)) return { entrypoint: [NODE, join(ROOT, "samples", "tcp-echo", "tcp-echo-server.ts")], env: {}, programs: {} };
  const m = BOOKINFO.exec(image);
  if (m !== null) {
    const [, app, version] = m as unknown as [string, string, string];
    if (app === "reviews") return { entrypoint: [NODE, join(ROOT, "samples", "bookinfo", "apps", "reviews.ts")], env: { REVIEWS_VERSION: version }, programs: {} };
    if (version === "v1") return { entrypoint: [NODE, join(ROOT, "samples", "bookinfo", "apps", `${app}.ts`)], env: {}, programs: {} };
  }
  throw new ContainerStartError("ErrImagePull", `the test node agent has no local command for image "${image}" (table in test/k8s/node-agent/images.ts)`);
}

/** The argv a container runs: entrypoint or `command`, then `args`, with `$(VAR)` expanded. */
export function containerArgv(img: LocalImage, command: readonly string[] | undefined, args: readonly string[] | undefined, env: Readonly<Record<string, string>>): string[] {
  const local = (a: string): string => (img.workdir !== undefined && a.startsWith(`${img.workdir}/`) ? join(ROOT, a.slice(img.workdir.length + 1)) : a);
  const tail = (args ?? (command !== undefined && command.length > 0 ? [] : (img.cmd ?? []))).map((a) => local(expand(a, env)));
  if (command !== undefined && command.length > 0) return [...programArgv(img, command.map((c) => local(expand(c, env)))), ...tail];
  if (img.entrypoint.length > 0) return [...img.entrypoint, ...tail];
  return programArgv(img, tail);
}

/** An exec (hook, probe) or a replaced entrypoint: argv[0] must be a program of the image. */
export function programArgv(img: LocalImage, argv: readonly string[]): string[] {
  const name = (argv[0] ?? "").split("/").pop() ?? "";
  const local = Object.hasOwn(img.programs, name) ? img.programs[name] : undefined;
  if (local === undefined) throw new ContainerStartError("RunContainerError", `exec: "${argv[0] ?? ""}": executable file not found in the image (test/k8s/node-agent/images.ts)`);
  return [...local, ...argv.slice(1)];
}

/** Kubernetes' `$(VAR)` expansion: a defined VAR is replaced, an undefined one kept, `$$` is `$`. */
export function expand(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) => {
    if (name === undefined) return "$";
    return Object.hasOwn(env, name) ? env[name]! : all;
  });
}
