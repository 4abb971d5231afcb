// The network of a netns mesh: one node namespace (the "machine": a bridge for its pods, a veth
// uplink to the host, IP forwarding between them) and one namespace per pod (veth `eth0` on the
// bridge, its own IP, default route via the bridge, the capture rules of capture-rules.ts, and
// /etc/netns/<pod>/{hosts,resolv.conf}). The host gets one veth (am<run>u) with a /30 and a route
// to the pod subnet through it — both disappear with the node namespace. Nothing else on the host
// changes: no host iptables rule, no sysctl. Every name carries the run id, so parallel runs
// never collide (/run/amime-<run> holds the files sidecars read); `NetnsResources` lists what exists so that `amime down` can remove it after a crash.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bridgeIp, hostLinkIp, nodeLinkIp, podCidr, podIp, type MeshSubnet } from "./addresses.ts";
import { ip, iptablesRestore, run } from "./commands.ts";

/** What a run created, as kept in the state file (enough to remove it all). */
export interface NetnsResources {
  runId: string;
  subnet: number;
  nodeNetns: string;
  hostLink: string;
  pods: string[];
}

export const ETC_NETNS = "/etc/netns";

/** Files of a run that its sidecars (UID 1337) read: the mesh root certificate. */
export function runDirOf(runId: string): string {
  return `/run/amime-${runId}`;
}

export function nodeNetnsName(runId: string): string {
  return `amime-${runId}-node`;
}

export function podNetnsName(runId: string, instance: string): string {
  return `amime-${runId}-${instance}`;
}

/** Host-side interface names are limited to 15 characters. */
export function hostLinkName(runId: string): string {
  return `am${runId}u`;
}

export class NetnsNetwork {
  readonly subnet: MeshSubnet;
  readonly resources: NetnsResources;
  private podCount = 0;

  private constructor(runId: string, subnet: MeshSubnet) {
    this.subnet = subnet;
    this.resources = { runId, subnet: subnet.octet, nodeNetns: nodeNetnsName(runId), hostLink: hostLinkName(runId), pods: [] };
  }

  /** The address pods see the host (the control plane, the gateway, probes) as. */
  get hostIp(): string {
    return hostLinkIp(this.subnet);
  }

  /** Create the node namespace, its bridge and the host uplink. On failure, removes what it made. */
  static async create(runId: string, subnet: MeshSubnet, onChange: (r: NetnsResources) => void): Promise<NetnsNetwork> {
    const net = new NetnsNetwork(runId, subnet);
    const { nodeNetns: node, hostLink } = net.resources;
    onChange(net.resources);
    try {
      await ip("netns", "add", node);
      await ip("link", "add", hostLink, "type", "veth", "peer", "name", "uplink", "netns", node);
      await ip("addr", "add", `${hostLinkIp(subnet)}/30`, "dev", hostLink);
      await ip("link", "set", hostLink, "up");
      await ip("-n", node, "link", "set", "lo", "up");
      await ip("-n", node, "addr", "add", `${nodeLinkIp(subnet)}/30`, "dev", "uplink");
      await ip("-n", node, "link", "set", "uplink", "up");
      await ip("-n", node, "link", "add", "br0", "type", "bridge");
      await ip("-n", node, "addr", "add", `${bridgeIp(subnet)}/24`, "dev", "br0");
      await ip("-n", node, "link", "set", "br0", "up");
      await ip("-n", node, "route", "add", "default", "via", hostLinkIp(subnet));
      // Forwarding between the uplink and the bridge, in the node namespace only.
      await run("ip", ["netns", "exec", node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
      await ip("route", "add", podCidr(subnet), "via", nodeLinkIp(subnet), "dev", hostLink);
    } catch (e) {
      await removeNetns(net.resources);
      throw e;
    }
    return net;
  }

  /** A pod namespace on the bridge, with its capture rules and name files; returns its IP. */
  async addPod(instance: string, files: { hosts: string; resolvConf: string }, rules: (ip: string) => string, onChange: (r: NetnsResources) => void): Promise<{ netns: string; ip: string }> {
    const i = this.podCount++;
    const address = podIp(this.subnet, i);
    const netns = podNetnsName(this.resources.runId, instance);
    const node = this.resources.nodeNetns;
    this.resources.pods.push(netns);
    onChange(this.resources);
    await writePodFiles(netns, files);
    await ip("netns", "add", netns);
    // IPv4 only: the capture rules are iptables (IPv4); with IPv6 off, a link-local fe80:: address
    // cannot be a way around them.
    await run("ip", ["netns", "exec", netns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    await ip("-n", node, "link", "add", `p${i}`, "type", "veth", "peer", "name", "eth0", "netns", netns);
    await ip("-n", node, "link", "set", `p${i}`, "master", "br0");
    await ip("-n", node, "link", "set", `p${i}`, "up");
    await ip("-n", netns, "link", "set", "lo", "up");
    await ip("-n", netns, "addr", "add", `${address}/24`, "dev", "eth0");
    await ip("-n", netns, "link", "set", "eth0", "up");
    await ip("-n", netns, "route", "add", "default", "via", bridgeIp(this.subnet));
    await iptablesRestore(netns, rules(address));
    return { netns, ip: address };
  }

  async remove(): Promise<void> {
    await removeNetns(this.resources);
  }
}

/** Rewrite a pod's hosts/resolv.conf in place (running processes see the same inode). */
export async function writePodFiles(netns: string, files: { hosts: string; resolvConf: string }): Promise<void> {
  const dir = join(ETC_NETNS, netns);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "hosts"), files.hosts);
  await writeFile(join(dir, "resolv.conf"), files.resolvConf);
}

/**
 * Remove everything a run made: kill what still runs in its namespaces (a namespace outlives its
 * name while a process is in it), delete the pod and node namespaces (their veths and the bridge
 * go with them, and with the uplink the host route), the host link if it is still there, and the
 * /etc/netns files. Safe to call twice, and on a half-made network.
 */
export async function removeNetns(r: NetnsResources): Promise<string[]> {
  const problems: string[] = [];
  const all = [...r.pods, r.nodeNetns];
  for (const ns of all) {
    try {
      const pids = (await ip("netns", "pids", ns)).split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    } catch {
      // no such namespace
    }
  }
  for (const ns of all) {
    await ip("netns", "del", ns).catch((e: Error) => {
      if (!/No such file|not found|does not exist/i.test(e.message)) problems.push(e.message);
    });
  }
  await ip("link", "del", r.hostLink).catch(() => {});
  for (const ns of r.pods) await rm(join(ETC_NETNS, ns), { recursive: true, force: true });
  await rm(runDirOf(r.runId), { recursive: true, force: true });
  return problems;
}

/** Names of live network namespaces and host links of a run (for leak checks). */
export async function leftovers(runId: string): Promise<string[]> {
  const names = (await ip("netns", "list")).split("\n").map((l) => l.split(" ")[0] ?? "").filter((n) => n.startsWith(`amime-${runId}-`));
  const links = (await ip("-o", "link", "show")).split("\n").filter((l) => l.includes(hostLinkName(runId))).map(() => hostLinkName(runId));
  return [...names, ...links];
}
