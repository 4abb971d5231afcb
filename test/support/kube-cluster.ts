// A real Kubernetes control plane for tests, as envtest runs one: Debian's etcd, the rig's
// kube-apiserver and (optionally) kube-controller-manager built from k8s.io/kubernetes v1.37.2 by
// test/k8s/build-rig.sh, on free loopback ports in one temp dir. No kubelet: nothing runs pods.
//
// The API server authenticates one static bearer token (user `amime-test`, group system:masters)
// and authorizes with RBAC, as a real cluster does. `kubeconfig` is a file for the rig's kubectl,
// for `amime … --kubeconfig`. Readiness is observed, not slept on:
// the API server is up when /readyz answers 200; the controller manager when its controllers have
// made every namespace's `default` ServiceAccount and `kube-root-ca.crt` ConfigMap.
//
// The rig is built by `.ci/run` (about 10 CPU-minutes once, then cached). A test that needs it and
// finds it missing fails with the command to run: it never skips silently.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { homedir, networkInterfaces } from "node:os";
import { join } from "node:path";
import { EtcdCluster } from "./etcd-cluster.ts";
import { unusedPort } from "./ports.ts";
import { waitFor } from "./wait.ts";

export const K8S_RIG_VERSION = "v1.37.2";

/** Where build-rig.sh puts the binaries (same lookup as the script). */
export function rigDir(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return process.env.AMIME_K8S_RIG ?? join(cache, "amime", `k8s-rig-${K8S_RIG_VERSION}`);
}

/** The path of one rig binary; throws saying how to build the rig when it is missing. */
export function rigBinary(name: "kube-apiserver" | "kube-controller-manager" | "kubectl"): string {
  const path = join(rigDir(), name);
  if (!existsSync(path)) {
    throw new Error(`the Kubernetes test rig is missing ${path}: build it with test/k8s/build-rig.sh (.ci/run does; see test/k8s/rig/README.md)`);
  }
  return path;
}

export interface KubeClusterOptions {
  /** More kube-apiserver flags (e.g. `--watch-cache=false`: watches served by etcd, so a compacted version answers 410). */
  apiServerArgs?: readonly string[];
  /** Also run kube-controller-manager (Deployments → ReplicaSets → Pods, EndpointSlices, ServiceAccounts). */
  controllerManager?: boolean;
  /**
   * Reachable from pods (a control plane running in a pod of the test node agent): the API server
   * listens on this machine's non-loopback address (the kubeconfig names it; its self-signed
   * certificate names it and the `kubernetes` Service's 10.96.0.1), the endpoint reconciler writes
   * that address as the `kubernetes` Service's endpoint, and webhooks and the service proxy reach a
   * Service at its endpoints' pod IPs (`--enable-aggregator-routing`: this host runs no kube-proxy,
   * so a ClusterIP reaches nothing from here). docs/kubernetes.md, "The installed control plane on the rig".
   */
  podNetwork?: boolean;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `apply -f -`). */
  input?: string;
}

/** A kubectl run that exited non-zero: its arguments, exit code and output. */
export class KubectlError extends Error {
  readonly stderr: string;
  readonly code: number | null;
  constructor(args: string[], code: number | null, stderr: string) {
    super(`kubectl ${args.join(" ")} exited with ${code}: ${stderr.trim()}`);
    this.stderr = stderr;
    this.code = code;
  }
}

interface Proc {
  name: string;
  child: ChildProcess | null;
  log: string;
  /** Rejects when the process exits (a wait on its readiness ends at once, quoting its log). */
  exited: Promise<never>;
}

export class KubeCluster {
  readonly dir: string;
  /** https://127.0.0.1:PORT (with `podNetwork`, this machine's non-loopback address) */
  readonly server: string;
  readonly token: string;
  /** The API server's serving certificate chain (its self-signed CA is in it): trust for clients. */
  readonly caFile: string;
  readonly kubeconfig: string;
  private readonly etcd: EtcdCluster;
  private readonly procs: Proc[] = [];
  private withControllerManager = false;
  private extraApiServerArgs: readonly string[] = [];

  private readonly address: string;

  private constructor(dir: string, etcd: EtcdCluster, address: string, port: number, token: string) {
    this.dir = dir;
    this.etcd = etcd;
    this.address = address;
    this.server = `https://${address}:${port}`;
    this.token = token;
    this.caFile = join(dir, "certs", "apiserver.crt");
    this.kubeconfig = join(dir, "kubeconfig");
  }

  /** Start etcd, kube-apiserver (and kube-controller-manager) and wait until they are ready. */
  static async start(opts: KubeClusterOptions = {}): Promise<KubeCluster> {
    const apiserver = rigBinary("kube-apiserver");
    const controllerManager = opts.controllerManager ? rigBinary("kube-controller-manager") : "";
    rigBinary("kubectl");
    const etcd = await EtcdCluster.start(1);
    const cluster = new KubeCluster(etcd.dir, etcd, opts.podNetwork === true ? machineAddress() : "127.0.0.1", await unusedPort(), randomBytes(16).toString("hex"));
    cluster.withControllerManager = opts.controllerManager === true;
    cluster.extraApiServerArgs = opts.apiServerArgs ?? [];
    try {
      cluster.writeFiles();
      cluster.spawn("kube-apiserver", apiserver, cluster.apiserverArgs(opts.controllerManager === true));
      await cluster.ready();
      cluster.writeKubeconfig();
      if (opts.controllerManager) {
        cluster.spawn("kube-controller-manager", controllerManager, await cluster.controllerManagerArgs());
        await cluster.whileRunning("kube-controller-manager", waitFor(() => cluster.controllersSettled(), {
          what: "kube-controller-manager to make every namespace's default ServiceAccount and kube-root-ca.crt ConfigMap",
          timeoutMs: 60_000,
          everyMs: 100,
        }));
      }
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  /**
   * Whether the controllers' start-up work is done: every namespace has its `default` ServiceAccount
   * (service-account controller) and its `kube-root-ca.crt` ConfigMap (root-ca-cert-publisher). Both
   * come a moment after the controller manager starts; a test that lists the cluster's objects
   * before and after (installed.test.ts) must not see them arrive in between.
   */
  private async controllersSettled(): Promise<boolean> {
    const names = async (path: string): Promise<Set<string>> => {
      const r = await this.get(path);
      if (r.status !== 200) return new Set();
      return new Set((JSON.parse(r.body) as { items: { metadata: { name: string; namespace?: string } }[] }).items.map((o) => o.metadata.namespace ?? o.metadata.name));
    };
    const namespaces = await names("/api/v1/namespaces");
    const accounts = await names("/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault");
    const roots = await names("/api/v1/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt");
    return namespaces.size > 0 && [...namespaces].every((ns) => accounts.has(ns) && roots.has(ns));
  }

  /** Run the rig's kubectl against this cluster; resolves with stdout, rejects with KubectlError. */
  kubectl(args: string[], opts: KubectlOptions = {}): Promise<string> {
    // Discovery cache in the cluster's own dir: nothing shared with other runs or the user's ~/.kube.
    const full = ["--kubeconfig", this.kubeconfig, "--cache-dir", join(this.dir, "kubectl-cache"), ...args];
    return new Promise((resolve, reject) => {
      const child = execFile(rigBinary("kubectl"), full, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new KubectlError(args, child.exitCode, stderr || err.message));
        else resolve(stdout);
      });
      // kubectl may exit before it reads its input (bad usage): its exit status tells the story.
      child.stdin!.on("error", () => {});
      child.stdin!.end(opts.input ?? "");
    });
  }

  /** `kubectl apply -f -` of YAML text. */
  apply(yaml: string, namespace?: string): Promise<string> {
    return this.kubectl([...(namespace ? ["-n", namespace] : []), "apply", "-f", "-"], { input: yaml });
  }

  /** Install Istio's CRDs (manifests/crds/) and wait until the API server serves every one. */
  async installIstioCrds(): Promise<void> {
    await this.kubectl(["apply", "--server-side", "-f", join(import.meta.dirname, "..", "..", "manifests", "crds", "crd-all.gen.yaml")]);
    await this.kubectl(["wait", "--for", "condition=Established", "--timeout", "60s", "crd", "--all"]);
  }

  /** GET a path of the API server with the test token: status and body. */
  get(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.server}${path}`, { ca: readFileSync(this.caFile), headers: { authorization: `Bearer ${this.token}` } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  }

  /**
   * Stop kube-apiserver (SIGKILL: clients see their connections break), run `whileDown` (e.g.
   * etcdctl on `etcdEndpoints`: a change no watcher is told of), start it again on the same port
   * and wait until it is ready. etcd and the controller manager keep running.
   */
  async restartApiServer(whileDown: () => Promise<void> = async () => {}): Promise<void> {
    const i = this.procs.findIndex((p) => p.name === "kube-apiserver");
    const old = this.procs[i]!;
    await end(old);
    this.procs.splice(i, 1);
    await whileDown();
    this.spawn("kube-apiserver", rigBinary("kube-apiserver"), this.apiserverArgs(this.withControllerManager));
    await this.ready();
  }

  /** etcd's client URLs (for etcdctl). */
  get etcdEndpoints(): readonly string[] {
    return this.etcd.endpoints;
  }

  /** The output of a rig process (for failure messages). */
  log(name: "kube-apiserver" | "kube-controller-manager" | "etcd"): string {
    if (name === "etcd") return this.etcd.log(0);
    return this.procs.find((p) => p.name === name)?.log ?? "";
  }

  async close(): Promise<void> {
    for (const p of [...this.procs].reverse()) await end(p);
    await this.etcd.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeFiles(): void {
    mkdirSync(join(this.dir, "certs"), { recursive: true });
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(this.dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(join(this.dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(this.dir, "tokens.csv"), `${this.token},amime-test,amime-test,"system:masters"\n`);
  }

  private apiserverArgs(withControllerManager: boolean): string[] {
    const port = new URL(this.server).port;
    return [
      "--etcd-servers", this.etcd.endpoints.join(","),
      "--etcd-prefix", "/registry",
      "--bind-address", this.address,
      "--advertise-address", this.address,
      // The `kubernetes` Service's endpoints would name a loopback address, which 1.37 refuses.
      ...(this.address === "127.0.0.1" ? ["--endpoint-reconciler-type", "none"] : ["--enable-aggregator-routing=true"]),
      "--secure-port", port,
      "--cert-dir", join(this.dir, "certs"),
      "--token-auth-file", join(this.dir, "tokens.csv"),
      "--authorization-mode", "RBAC",
      "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
      "--service-account-key-file", join(this.dir, "sa.pub"),
      "--service-account-signing-key-file", join(this.dir, "sa.key"),
      "--service-cluster-ip-range", "10.96.0.0/16",
      "--allow-privileged=true",
      // Without the controller manager nothing creates a namespace's `default` ServiceAccount, and
      // the ServiceAccount admission plugin would refuse every pod (envtest disables it the same way).
      ...(withControllerManager ? [] : ["--disable-admission-plugins", "ServiceAccount"]),
      ...this.extraApiServerArgs,
    ];
  }

  private async controllerManagerArgs(): Promise<string[]> {
    return [
      "--kubeconfig", this.kubeconfig,
      "--bind-address", "127.0.0.1",
      "--secure-port", String(await unusedPort()),
      "--leader-elect=false",
      "--service-account-private-key-file", join(this.dir, "sa.key"),
      "--root-ca-file", this.caFile,
      "--cluster-name", "amime-test",
    ];
  }

  private writeKubeconfig(): void {
    const ca = readFileSync(this.caFile).toString("base64");
    writeFileSync(this.kubeconfig, [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: amime-test",
      "  cluster:",
      `    server: ${this.server}`,
      `    certificate-authority-data: ${ca}`,
      "users:",
      "- name: amime-test",
      "  user:",
      `    token: ${this.token}`,
      "contexts:",
      "- name: amime-test",
      "  context: {cluster: amime-test, user: amime-test, namespace: default}",
      "current-context: amime-test",
      "",
    ].join("\n"));
  }

  private async ready(): Promise<void> {
    await this.whileRunning("kube-apiserver", waitFor(() => existsSync(this.caFile) && this.get("/readyz").then((r) => r.status === 200), {
      what: `kube-apiserver on ${this.server} to answer /readyz`,
      timeoutMs: 90_000,
      everyMs: 100,
    }));
  }

  /** `wait`, failing at once (with the end of its log) if process `name` exits meanwhile. */
  private whileRunning<T>(name: string, wait: Promise<T>): Promise<T> {
    const p = this.procs.find((x) => x.name === name)!;
    return Promise.race([wait, p.exited]);
  }

  private spawn(name: string, bin: string, args: string[]): void {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const p: Proc = {
      name,
      child,
      log: "",
      exited: new Promise<never>((_, reject) => child.once("exit", (code, signal) => reject(new Error(`${name} exited (${code ?? signal}):\n${p.log.slice(-3000)}`)))),
    };
    p.exited.catch(() => {});
    const keep = (d: Buffer): void => {
      p.log += d.toString();
      if (p.log.length > 400_000) p.log = p.log.slice(-200_000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("exit", () => (p.child = null));
    this.procs.push(p);
  }
}

/** This machine's first non-loopback IPv4 address (what pods and this machine both reach). */
export function machineAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  throw new Error("this machine has no non-loopback IPv4 address for pods to reach the API server on");
}

function end(p: Proc): Promise<void> {
  const child = p.child;
  if (child === null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}
