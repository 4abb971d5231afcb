// The network of a netns mesh: one or more node namespaces (the "machines"), each with a bridge for
// its pods, joined by a network namespace (amime-<run>-net, a plain bridge: the wire between the
// machines) to each other and to the host, with a route per node's pod subnet on every machine.
// A pod is a namespace with a veth `eth0` on its node's bridge, its own IP, a default route via
// the bridge, the capture rules of capture-rules.ts and /etc/netns/<pod>/{hosts,resolv.conf}.
// The host gets one veth (am<run>u, 10.X.0.1/24 on the wire) and a route per node, all gone with
// the wire namespace. Nothing else on the host changes: no host iptables rule, no sysctl (the
// nodes forward, the host does not). Every name carries the run id, so parallel runs never
// collide (/run/amime-<run> holds the files sidecars read); `NetnsResources` lists what exists so
// that `amime down` can remove it after a crash.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bridgeIp, hostLinkIp, MAX_NODES, nodeLinkIp, podCidr, podIp, type MeshSubnet } from "./addresses.ts";
import { ip, iptablesRestore, run } from "./commands.ts";
import type { NetnsResources } from "../local/state-file.ts";

export const ETC_NETNS = "/etc/netns";

/** Files of a run that its sidecars (UID 1337) read: the mesh root certificate. */
export function runDirOf(runId: string): string {
  return `/run/amime-${runId}`;
}

export function nodeNetnsName(runId: string, node: number): string {
  return `amime-${runId}-node${node}`;
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
  private readonly podCount: number[];

  private constructor(runId: string, subnet: MeshSubnet, nodes: number) {
    this.subnet = subnet;
    this.resources = { runId, subnet: subnet.octet, wireNetns: `amime-${runId}-net`, nodes: Array.from({ length: nodes }, (_, k) => nodeNetnsName(runId, k)), hostLink: hostLinkName(runId), pods: [] };
    this.podCount = Array.from({ length: nodes }, () => 0);
  }

  /** The address pods see the host (the control plane, the gateway, probes) as. */
  get hostIp(): string {
    return hostLinkIp(this.subnet);
  }

  get nodeCount(): number {
    return this.resources.nodes.length;
  }

  /** Create the wire, the node namespaces with their bridges, the host link and routes. On failure, removes what it made. */
  static async create(runId: string, subnet: MeshSubnet, nodes: number, onChange: (r: NetnsResources) => void): Promise<NetnsNetwork> {
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new RangeError(`nodes: 1 to ${MAX_NODES}`);
    const net = new NetnsNetwork(runId, subnet, nodes);
    const { wireNetns: wire, hostLink } = net.resources;
    onChange(net.resources);
    try {
      await ip("netns", "add", wire);
      await ip("-n", wire, "link", "add", "wire", "type", "bridge");
      await ip("-n", wire, "link", "set", "wire", "up");
      await ip("link", "add", hostLink, "type", "veth", "peer", "name", "host", "netns", wire);
      await ip("-n", wire, "link", "set", "host", "master", "wire");
      await ip("-n", wire, "link", "set", "host", "up");
      await ip("addr", "add", `${hostLinkIp(subnet)}/24`, "dev", hostLink);
      await ip("link", "set", hostLink, "up");
      for (let k = 0; k < nodes; k++) {
        const node = net.resources.nodes[k]!;
        await ip("netns", "add", node);
        await run("ip", ["netns", "exec", node, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=1"]);
        await ip("-n", wire, "link", "add", `n${k}`, "type", "veth", "peer", "name", "uplink", "netns", node);
        await ip("-n", wire, "link", "set", `n${k}`, "master", "wire");
        await ip("-n", wire, "link", "set", `n${k}`, "up");
        await ip("-n", node, "link", "set", "lo", "up");
        await ip("-n", node, "addr", "add", `${nodeLinkIp(subnet, k)}/24`, "dev", "uplink");
        await ip("-n", node, "link", "set", "uplink", "up");
        await ip("-n", node, "link", "add", "br0", "type", "bridge");
        await ip("-n", node, "addr", "add", `${bridgeIp(subnet, k)}/24`, "dev", "br0");
        await ip("-n", node, "link", "set", "br0", "up");
        await ip("-n", node, "route", "add", "default", "via", hostLinkIp(subnet));
        // Routes between the machines: every other node's pods through that node.
        for (let j = 0; j < nodes; j++) if (j !== k) await ip("-n", node, "route", "add", podCidr(subnet, j), "via", nodeLinkIp(subnet, j));
        await ip("route", "add", podCidr(subnet, k), "via", nodeLinkIp(subnet, k), "dev", hostLink);
      }
    } catch (e) {
      await removeNetns(net.resources);
      throw e;
    }
    return net;
  }

  /** A pod namespace on node `node`'s bridge, with its capture rules and name files; returns its IP. */
  async addPod(instance: string, node: number, files: { hosts: string; resolvConf: string }, rules: (ip: string) => string, onChange: (r: NetnsResources) => void): Promise<{ netns: string; ip: string; node: string }> {
    const i = this.podCount[node]!++;
    const address = podIp(this.subnet, i, node);
    const netns = podNetnsName(this.resources.runId, instance);
    const nodeNs = this.resources.nodes[node]!;
    this.resources.pods.push(netns);
    onChange(this.resources);
    await writePodFiles(netns, files);
    await ip("netns", "add", netns);
    // IPv4 only: the capture rules are iptables (IPv4); with IPv6 off, a link-local fe80:: address
    // cannot be a way around them.
    await run("ip", ["netns", "exec", netns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    await ip("-n", nodeNs, "link", "add", `p${i}`, "type", "veth", "peer", "name", "eth0", "netns", netns);
    await ip("-n", nodeNs, "link", "set", `p${i}`, "master", "br0");
    await ip("-n", nodeNs, "link", "set", `p${i}`, "up");
    await ip("-n", netns, "link", "set", "lo", "up");
    await ip("-n", netns, "addr", "add", `${address}/24`, "dev", "eth0");
    await ip("-n", netns, "link", "set", "eth0", "up");
    await ip("-n", netns, "route", "add", "default", "via", bridgeIp(this.subnet, node));
    await iptablesRestore(netns, rules(address));
    return { netns, ip: address, node: nodeNs };
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
 * name while a process is in it), delete the pod, node and wire namespaces (their veths and
 * bridges go with them, and with the host link's peer the host routes), the host link if it is
 * still there, the /etc/netns files and /run/amime-<run>. Safe to call twice, and on a half-made network.
 */
export async function removeNetns(r: NetnsResources): Promise<string[]> {
  const problems: string[] = [];
  const all = [...r.pods, ...r.nodes, r.wireNetns];
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
