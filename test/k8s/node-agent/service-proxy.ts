// The test node's kube-proxy (iptables mode, the part a pod needs): every Service's ClusterIP:port
// is DNATed to one of its ready endpoints (from its EndpointSlices, as kube-proxy reads them; the
// endpoint's port is the slice port named as the Service port), chosen at random with equal
// weight (`-m statistic --mode random`, kube-proxy's rule shape); a port with no ready endpoint is
// rejected. The rules live in the node's network namespace, where pods' packets are routed (their
// default route), so nothing on the host changes. Connections it DNATs are masqueraded to the
// node's bridge address (as kube-proxy's `--masquerade-all`): a pod reaching a Service whose
// endpoint is on the same bridge gets its replies back through the node, without relying on
// br_netfilter. The whole nat and filter tables of the node namespace are rewritten on each
// change (iptables-restore is atomic; established connections keep their conntrack entry).
import { systemClock } from "../../../src/core/clock.ts";
import { Reflector, type KubeConnection, type KubeObject } from "../../../src/control-plane/kubernetes/index.ts";
import { iptablesRestore } from "../../../src/runtime/netns/commands.ts";

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

interface SlicePort {
  name?: string | null;
  port?: number | null;
  protocol?: string;
}

interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean | null };
}

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/** The node namespace's nat and filter tables (iptables-restore input) for these Services and EndpointSlices. */
export function serviceRules(services: readonly KubeObject[], slices: readonly KubeObject[]): string {
  const bySvc = new Map<string, KubeObject[]>();
  for (const s of slices) {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc === undefined) continue;
    const key = `${s.metadata.namespace}/${svc}`;
    bySvc.set(key, [...(bySvc.get(key) ?? []), s]);
  }
  const chains = [":AMIME-KUBE-SERVICES - [0:0]"];
  const nat = ["-A PREROUTING -j AMIME-KUBE-SERVICES", "-A POSTROUTING -m conntrack --ctstate DNAT -j MASQUERADE"];
  const filter = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"];
  const sorted = [...services].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  for (const svc of sorted) {
    const spec = svc.spec as { clusterIP?: string; type?: string; ports?: ServicePort[] } | undefined;
    const vip = spec?.clusterIP;
    if (vip === undefined || vip === "" || vip === "None" || spec?.type === "ExternalName") continue;
    for (const p of spec?.ports ?? []) {
      const proto = (p.protocol ?? "TCP").toLowerCase();
      const targets = endpointsOf(bySvc.get(keyOf(svc)) ?? [], p);
      const match = `-d ${vip}/32 -p ${proto} -m ${proto} --dport ${p.port}`;
      if (targets.length === 0) {
        filter.push(`-A FORWARD ${match} -j REJECT`);
        continue;
      }
      const chain = `AMIME-SVC-${chains.length}`;
      chains.push(`:${chain} - [0:0]`);
      nat.push(`-A AMIME-KUBE-SERVICES ${match} -j ${chain}`);
      targets.forEach((t, i) => {
        const left = targets.length - i;
        const pick = left > 1 ? `-m statistic --mode random --probability ${(1 / left).toFixed(10)} ` : "";
        nat.push(`-A ${chain} -p ${proto} ${pick}-j DNAT --to-destination ${t}`);
      });
    }
  }
  const natHead = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"];
  return [...natHead, ...chains, ...nat, "COMMIT", ...filter, "COMMIT", ""].join("\n");
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

/** `ip:port` of every ready endpoint of one Service port, in the slices' order, each once. */
function endpointsOf(slices: readonly KubeObject[], port: ServicePort): string[] {
  const out = new Set<string>();
  for (const s of slices) {
    const body = s as unknown as { addressType?: string; ports?: SlicePort[] | null; endpoints?: SliceEndpoint[] | null };
    if (body.addressType !== "IPv4") continue;
    const sp = (body.ports ?? []).find((x) => (x.name ?? "") === (port.name ?? "") && (x.protocol ?? "TCP") === (port.protocol ?? "TCP"));
    if (sp?.port === undefined || sp.port === null) continue;
    for (const e of body.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const address = e.addresses[0];
      if (address !== undefined) out.add(`${address}:${sp.port}`);
    }
  }
  return [...out];
}

/** Keeps the rules of one node namespace in step with the API server's Services and EndpointSlices. */
export class ServiceProxy {
  private readonly services = new Map<string, KubeObject>();
  private readonly slices = new Map<string, KubeObject>();
  private readonly reflectors: Reflector[] = [];
  private writing: Promise<void> | null = null;
  private again = false;
  private closed = false;

  private readonly netns: string;
  private readonly log: (line: string) => void;

  private constructor(netns: string, log: (line: string) => void) {
    this.netns = netns;
    this.log = log;
  }

  static async start(conn: KubeConnection, netns: string, log: (line: string) => void): Promise<ServiceProxy> {
    const p = new ServiceProxy(netns, log);
    const watch = (path: string, into: Map<string, KubeObject>): Reflector => new Reflector(conn, path, {
      upsert: (o) => {
        into.set(keyOf(o), o);
        p.changed();
      },
      remove: (o) => {
        into.delete(keyOf(o));
        p.changed();
      },
    }, systemClock, log);
    p.reflectors.push(watch("/api/v1/services", p.services), watch("/apis/discovery.k8s.io/v1/endpointslices", p.slices));
    await Promise.all(p.reflectors.map((r) => r.start()));
    await p.flush();
    return p;
  }

  /** Resolves once the rules in place reflect every event seen so far. */
  async flush(): Promise<void> {
    this.changed();
    while (this.writing !== null) await this.writing;
  }

  private changed(): void {
    if (this.closed) return;
    if (this.writing !== null) {
      this.again = true;
      return;
    }
    this.writing = iptablesRestore(this.netns, serviceRules([...this.services.values()], [...this.slices.values()]))
      .then(() => {}, (e: Error) => this.log(`service proxy: ${e.message}`))
      .finally(() => {
        this.writing = null;
        if (this.again) {
          this.again = false;
          this.changed();
        }
      });
  }

  close(): void {
    this.closed = true;
    for (const r of this.reflectors) r.close();
  }
}
