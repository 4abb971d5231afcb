// `amime proxy-config listeners|routes|clusters|endpoints|all WORKLOAD`: the config the control
// plane pushed to one proxy, as tables or JSON, like `istioctl proxy-config`.
import type { ProxyConfig } from "../model/proxy-config.ts";
import type { SecretStatus } from "../model/wire.ts";
import type { Command } from "./command.ts";
import { parseArgs, UsageError } from "./lib/args.ts";
import { formatStructured } from "./lib/output.ts";
import { clustersTable, endpointsTable, listenersTable, routesTable, type Table } from "./lib/proxy-config-tables.ts";
import { resolveProxy } from "./lib/proxy-ref.ts";
import { connectThroughCluster, CONTROL_PLANE_ACCESS_HELP, KUBE_FLAGS, throughCluster } from "./lib/kube-control-plane.ts";
import { connect, helpRequested, runCommand } from "./lib/run.ts";
import { formatTable } from "../core/text-table.ts";

export const PROXY_CONFIG_HELP = `Usage: amime proxy-config listeners|routes|clusters|endpoints|all|secret WORKLOAD [-n NS] [-o json|yaml|wide]

Show the config the control plane pushed to one proxy, like \`istioctl proxy-config\`.
WORKLOAD is a node id (sidecar~reviews-v1-0.default), an instance name (reviews-v1-0) or a
workload name (reviews-v1: its first instance).
  listeners   NAME, ADDRESS, PORT, DIRECTION, PROTOCOL, DESTINATION
  routes      NAME (route configuration), VHOST, DOMAINS, MATCH, VIRTUAL SERVICE — one row per route
  clusters    SERVICE FQDN, PORT, SUBSET, DIRECTION, TYPE, LB
  endpoints   ENDPOINT, STATUS (HEALTHY/UNHEALTHY in the registry), CLUSTER; wide adds WORKLOAD,
              WEIGHT, LOCALITY, LABELS
  all         every section (-o json prints the whole ProxyConfig)
  secret      the workload certificate the mesh CA issued to the proxy (istioctl's RESOURCE NAME,
              TYPE, STATUS, VALID CERT, SERIAL NUMBER, NOT AFTER, NOT BEFORE), its identity and
              chain. Not used for traffic yet: mutual TLS is not enforced (docs/security.md)

Options:
  -n, --namespace NS    namespace of WORKLOAD when names repeat across namespaces
  -o, --output FORMAT   json or yaml (the section as pushed), or wide (endpoints)
${CONTROL_PLANE_ACCESS_HELP}

Exit status: 0 on success, 1 when no proxy matches WORKLOAD or the control plane cannot be
reached, 2 on usage errors.
`;

const SECTIONS = ["listeners", "routes", "clusters", "endpoints", "all"] as const;
type Section = (typeof SECTIONS)[number];

/** `listener`, `route`, `cluster`, `endpoint`, and istioctl's short `l`, `r`, `c`, `ep` work too. */
export function parseSection(word: string): Section {
  const w = word.toLowerCase();
  const alias: Record<string, Section> = { listener: "listeners", l: "listeners", route: "routes", r: "routes", cluster: "clusters", c: "clusters", endpoint: "endpoints", ep: "endpoints", eps: "endpoints" };
  const s = (SECTIONS as readonly string[]).includes(w) ? (w as Section) : alias[w];
  if (s === undefined) throw new UsageError(`unknown section ${JSON.stringify(word)} (use ${SECTIONS.join(", ")})`);
  return s;
}

export function sectionValue(config: ProxyConfig, section: Section): unknown {
  return section === "all" ? config : config[section];
}

export function formatSection(config: ProxyConfig, section: Section, wide = false): string {
  const one = (t: Table): string => formatTable(t.headers, t.rows);
  switch (section) {
    case "listeners": return one(listenersTable(config));
    case "routes": return one(routesTable(config));
    case "clusters": return one(clustersTable(config));
    case "endpoints": return one(endpointsTable(config, wide));
    default:
      return [listenersTable(config), routesTable(config), clustersTable(config), endpointsTable(config, wide)].map(one).join("\n");
  }
}

export const proxyConfigCommand: Command = {
  name: "proxy-config",
  run: (argv) => runCommand("proxy-config", PROXY_CONFIG_HELP, async () => {
    const args = parseArgs(argv, [
      { name: "namespace", short: "n", type: "string" },
      { name: "output", short: "o", type: "string", choices: ["json", "yaml", "wide"] },
      ...KUBE_FLAGS,
    ]);
    if (helpRequested(args, PROXY_CONFIG_HELP)) return 0;
    const [sectionWord, ref, ...extra] = args.positionals;
    if (sectionWord === undefined || ref === undefined) throw new UsageError("needs a section and a WORKLOAD, e.g. `amime proxy-config clusters reviews-v1`");
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const client = throughCluster(args) ? await connectThroughCluster(args) : await connect(args);
    if (/^(secret|secrets|s)$/i.test(sectionWord)) {
      const node = await resolveProxy(client, ref, args.strings.get("namespace"));
      const secret = await client.secret(node);
      const output = args.strings.get("output");
      process.stdout.write(output === "json" || output === "yaml" ? formatStructured(secret, output) : formatSecret(secret, new Date()));
      return 0;
    }
    const section = parseSection(sectionWord);
    const node = await resolveProxy(client, ref, args.strings.get("namespace"));
    const config = await client.proxyConfig(node);
    const output = args.strings.get("output");
    if (output === "json" || output === "yaml") process.stdout.write(formatStructured(sectionValue(config, section), output));
    else process.stdout.write(formatSection(config, section, output === "wide"));
    return 0;
  }),
};

/** istioctl's secret table, then the identity and every certificate of the chain and bundle. */
export function formatSecret(s: SecretStatus, now: Date): string {
  const valid = (c: { notBefore: string; notAfter: string }): string => String(Date.parse(c.notBefore) <= now.getTime() && now.getTime() < Date.parse(c.notAfter));
  const leaf = s.certChain[0];
  const rows: string[][] = [];
  if (leaf) rows.push(["default", "Cert Chain", "ACTIVE", valid(leaf), leaf.serial, leaf.notAfter, leaf.notBefore]);
  for (const r of s.trustBundle) rows.push(["ROOTCA", "CA", "ACTIVE", valid(r), r.serial, r.notAfter, r.notBefore]);
  const lines = [formatTable(["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"], rows), ""];
  lines.push(`Identity: ${s.identity}`, `Issued:   ${s.issuedAt} (certificate ${s.issued} from this control plane)`, "Chain:");
  s.certChain.forEach((c, i) => lines.push(`  ${i}  serial ${c.serial}  subject "${c.subject}"  issuer "${c.issuer}"${c.uris.length ? `  ${c.uris.join(",")}` : ""}`));
  return `${lines.join("\n")}\n`;
}
