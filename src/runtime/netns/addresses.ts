// Addresses of a netns mesh. Each run takes one free 10.X.0.0/16 (X from 200 to 249, one not yet
// on any route or address of the host). 10.X.0.0/24 is the network between the machines: the host
// is 10.X.0.1, node k (from 0) is 10.X.0.(k+2). Node k's pods get 10.X.(k+1).2, .3… on its bridge
// (10.X.(k+1).1). Service VIPs (Kubernetes ClusterIPs) come from 10.X.128.0/17: they exist only
// inside pods, where every connection to one is redirected to the sidecar. Pure.

export interface MeshSubnet {
  /** X of 10.X.0.0/16. */
  octet: number;
}

export const SUBNET_FIRST = 200;
export const SUBNET_LAST = 249;

/** The first free 10.X (starting at `start`, wrapping), or null when every one is taken. */
export function pickSubnet(used: ReadonlySet<number>, start: number): MeshSubnet | null {
  const span = SUBNET_LAST - SUBNET_FIRST + 1;
  for (let i = 0; i < span; i++) {
    const octet = SUBNET_FIRST + ((start - SUBNET_FIRST + i) % span + span) % span;
    if (!used.has(octet)) return { octet };
  }
  return null;
}

/** Second octets of 10.X.… addresses named in `ip -4 route` / `ip -4 addr` output. */
export function usedSecondOctets(text: string): Set<number> {
  const out = new Set<number>();
  for (const m of text.matchAll(/\b10\.(\d{1,3})\.\d{1,3}\.\d{1,3}/g)) out.add(Number(m[1]));
  return out;
}

export function hostLinkIp(s: MeshSubnet): string {
  return `10.${s.octet}.0.1`;
}

export const MAX_NODES = 100;

/** Node k's address on the network between the machines. */
export function nodeLinkIp(s: MeshSubnet, node = 0): string {
  return `10.${s.octet}.0.${node + 2}`;
}

/** Node k's bridge: its pods' gateway. */
export function bridgeIp(s: MeshSubnet, node = 0): string {
  return `10.${s.octet}.${node + 1}.1`;
}

export function podCidr(s: MeshSubnet, node = 0): string {
  return `10.${s.octet}.${node + 1}.0/24`;
}

export const MAX_PODS = 250;

/** The i-th pod (from 0) of node k. */
export function podIp(s: MeshSubnet, i: number, node = 0): string {
  if (i < 0 || i >= MAX_PODS) throw new RangeError(`pod ${i}: at most ${MAX_PODS} pods per node`);
  if (node < 0 || node >= MAX_NODES) throw new RangeError(`node ${node}: at most ${MAX_NODES} nodes`);
  return `10.${s.octet}.${node + 1}.${i + 2}`;
}

/** Service VIPs, handed out in order and kept per host for the life of the mesh. */
export class VipAllocator {
  private readonly subnet: MeshSubnet;
  private readonly byHost = new Map<string, string>();
  private next = 0;

  constructor(subnet: MeshSubnet) {
    this.subnet = subnet;
  }

  /** The host's VIP: `given` (the config's clusterIP / ServiceEntry address) when there is one, else the next free one. */
  vip(host: string, given?: string): string {
    let v = this.byHost.get(host);
    if (given !== undefined && v !== given) {
      this.byHost.set(host, given);
      return given;
    }
    if (v === undefined) {
      const n = this.next++;
      if (n >= 128 * 256 - 2) throw new RangeError("no service VIPs left");
      const k = n + 1;
      v = `10.${this.subnet.octet}.${128 + (k >> 8)}.${k & 255}`;
      this.byHost.set(host, v);
    }
    return v;
  }

  entries(): [string, string][] {
    return [...this.byHost];
  }
}
