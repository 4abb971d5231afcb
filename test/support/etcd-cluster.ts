// A real etcd cluster for tests: N members of Debian's etcd (3.4, /usr/bin/etcd) on loopback, each
// with a client and a peer port (ports.ts: named before binding) and its data dir under one temp
// dir. Members can be killed (SIGKILL), stopped (SIGTERM) and started again on their data dir, as
// an operator or a crash would; `close()` ends every member and removes the temp dir. Readiness
// is observed, not slept on: a member is up when its /health endpoint answers {"health":"true"}.
// With `tls` (etcd-tls-certs.ts makes the files with openssl) members serve clients over TLS only
// and require a client certificate from the CA (--client-cert-auth); peers stay plaintext.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unusedPort } from "./ports.ts";
import { waitFor } from "./wait.ts";

export const ETCD_BIN = process.env.AMIME_ETCD_BIN ?? "/usr/bin/etcd";

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  child: ChildProcess | null;
  log: string;
}

/** PEM files: the CA, the members' serving certificate and key, a client certificate and key. */
export interface EtcdTlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export class EtcdCluster {
  readonly dir: string;
  readonly tls: EtcdTlsFiles | null;
  private readonly members: Member[];
  private readonly token = `amime-test-${randomBytes(4).toString("hex")}`;

  private constructor(dir: string, members: Member[], tls: EtcdTlsFiles | null) {
    this.dir = dir;
    this.members = members;
    this.tls = tls;
  }

  /** Start `size` members (default 3) and wait until every one is healthy. */
  static async start(size = 3, opts: { tls?: EtcdTlsFiles } = {}): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(tmpdir(), "amime-etcd-"));
    const members: Member[] = [];
    for (let i = 0; i < size; i++) {
      const base = await unusedPort(2);
      members.push({ name: `m${i}`, clientPort: base, peerPort: base + 1, dataDir: join(dir, `m${i}`), child: null, log: "" });
    }
    const cluster = new EtcdCluster(dir, members, opts.tls ?? null);
    try {
      for (let i = 0; i < size; i++) cluster.spawn(i);
      for (let i = 0; i < size; i++) await cluster.healthy(i);
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  /** `etcd://127.0.0.1:A,127.0.0.1:B,…` (`etcds://` with TLS; what `--store` takes), with an optional key prefix path. */
  url(prefix = ""): string {
    return `${this.tls ? "etcds" : "etcd"}://${this.members.map((m) => `127.0.0.1:${m.clientPort}`).join(",")}${prefix}`;
  }

  /** Client URLs (http://127.0.0.1:PORT, https:// with TLS), for etcdctl and direct checks. */
  get endpoints(): string[] {
    return this.members.map((m) => `${this.scheme}://127.0.0.1:${m.clientPort}`);
  }

  private get scheme(): string {
    return this.tls ? "https" : "http";
  }

  get size(): number {
    return this.members.length;
  }

  /** End member `i` at once (SIGKILL), as a crash would. */
  kill(i: number): Promise<void> {
    return this.end(i, "SIGKILL");
  }

  /** Stop member `i` gracefully (SIGTERM). */
  stop(i: number): Promise<void> {
    return this.end(i, "SIGTERM");
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.stop(i)));
  }

  /** Start member `i` again on its data dir and wait until it is healthy. */
  async restart(i: number): Promise<void> {
    this.spawn(i);
    await this.healthy(i);
  }

  async restartAll(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) this.spawn(i);
    for (let i = 0; i < this.members.length; i++) await this.healthy(i);
  }

  /** The output of member `i` (for failure messages). */
  log(i: number): string {
    return this.members[i]!.log;
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.end(i, "SIGKILL")));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(i: number): void {
    const m = this.members[i]!;
    if (m.child !== null) throw new Error(`etcd member ${m.name} is already running`);
    const peers = this.members.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(",");
    const args = [
      "--name", m.name,
      "--data-dir", m.dataDir,
      "--listen-client-urls", `${this.scheme}://127.0.0.1:${m.clientPort}`,
      "--advertise-client-urls", `${this.scheme}://127.0.0.1:${m.clientPort}`,
      ...(this.tls ? ["--cert-file", this.tls.serverCert, "--key-file", this.tls.serverKey, "--trusted-ca-file", this.tls.ca, "--client-cert-auth"] : []),
      "--listen-peer-urls", `http://127.0.0.1:${m.peerPort}`,
      "--initial-advertise-peer-urls", `http://127.0.0.1:${m.peerPort}`,
      "--initial-cluster", peers,
      "--initial-cluster-token", this.token,
      "--initial-cluster-state", "new",
      // A shared 2-core machine: a longer election timeout than the 1 s default avoids leader
      // changes caused by scheduling delays alone.
      "--heartbeat-interval", "200",
      "--election-timeout", "2000",
      "--logger", "zap",
      "--log-outputs", "stderr",
    ];
    const child = spawn(ETCD_BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
    m.log = "";
    child.stderr!.on("data", (d: Buffer) => {
      m.log += d.toString();
      if (m.log.length > 200_000) m.log = m.log.slice(-100_000);
    });
    child.on("exit", () => {
      if (m.child === child) m.child = null;
    });
    m.child = child;
  }

  private async healthy(i: number): Promise<void> {
    const m = this.members[i]!;
    await waitFor(async () => {
      if (m.child === null) throw new Error(`etcd member ${m.name} exited:\n${m.log.slice(-2000)}`);
      const body = JSON.parse(await this.health(m.clientPort)) as { health?: string };
      return body.health === "true";
    }, { what: `etcd member ${m.name} (client port ${m.clientPort}) to be healthy`, timeoutMs: 30_000, everyMs: 50 });
  }

  /** The body of a member's /health (over TLS with the client certificate when the cluster has one). */
  private async health(port: number): Promise<string> {
    const tls = this.tls;
    if (tls === null) return (await fetch(`http://127.0.0.1:${port}/health`)).text();
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/health", ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.end();
    });
  }

  private end(i: number, signal: NodeJS.Signals): Promise<void> {
    const child = this.members[i]!.child;
    if (child === null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }
}
