// `amime capture`: install a pod's capture rules in the current network namespace, as Istio's
// `istio-iptables` does from the istio-init container. The sidecar injector runs it as the pod's
// first init container; the rules are the netns runtime's (docs/netns.md "Capture rules").
import { isIPv4 } from "node:net";
import { captureRules, inboundListenerPort } from "../runtime/netns/capture-rules.ts";
import { run } from "../runtime/netns/commands.ts";
import type { Command } from "./command.ts";
import { readFlags, runParsed, UsageError } from "./lib/args.ts";

export const CAPTURE_HELP = `Usage: amime capture --pod-ip IP --node-ip IP --inbound-ports PORT[:LISTENER][,…] [options]

Install the capture rules of one pod in the current network namespace with iptables-restore
(root, or CAP_NET_ADMIN and CAP_NET_RAW), as istio-init's istio-iptables: outbound TCP to the
sidecar's 15001 (its own UID/GID 1337, loopback and exclusions leave as they are), each declared
inbound port to its sidecar inbound listener, and any other inbound TCP connection reset. The
rules are those of \`amime up --runtime netns\` (docs/netns.md, "Capture rules"). The sidecar
injector puts this command in every injected pod's istio-init container (docs/kubernetes.md).

Options:
      --pod-ip IP       the pod's IPv4 address (an app calling its own IP is not captured)
      --node-ip IP      the node's address: its connections (kubelet probes) are not captured
      --inbound-ports LIST  the app's ports, each with its sidecar inbound listener
                        (9080:15006); a port alone gets 15006 if first, else 15101, 15102…
      --exclude-outbound-ports LIST     ports whose outbound connections are not captured
      --exclude-inbound-ports LIST      inbound ports that reach the app directly
      --exclude-outbound-ip-ranges LIST IPv4 CIDRs whose outbound connections are not captured
      --include-outbound-ip-ranges LIST only connections to these IPv4 CIDRs are captured
                        ("*": every address, the default; "": none)
      --dry-run         print the iptables-restore input instead of applying it
  -h, --help            show this help

Exit status: 0 once the rules are in place, 1 when iptables-restore fails (its message is
printed), 2 on usage errors.
`;

interface Args {
  podIp?: string;
  nodeIp?: string;
  inbound: Map<number, number>;
  excludeOutboundPorts: number[];
  excludeInboundPorts: number[];
  excludeOutboundIPRanges: string[];
  includeOutboundIPRanges: string[] | null;
  dryRun: boolean;
  help: boolean;
}

function ports(flag: string, text: string): number[] {
  return list(text).map((t) => port(flag, t));
}

function port(flag: string, t: string): number {
  const n = Number(t);
  if (!/^\d+$/.test(t) || n < 1 || n > 65535) throw new UsageError(`${flag}: "${t}" is not a port (1-65535)`);
  return n;
}

function list(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function cidrs(flag: string, text: string): string[] {
  return list(text).map((c) => {
    const [a, bits] = c.split("/");
    if (!isIPv4(a ?? "") || !/^\d{1,2}$/.test(bits ?? "") || Number(bits) > 32) throw new UsageError(`${flag}: "${c}" is not an IPv4 CIDR (a.b.c.d/n)`);
    return c;
  });
}

function ipv4(flag: string, v: string): string {
  if (!isIPv4(v)) throw new UsageError(`${flag}: "${v}" is not an IPv4 address`);
  return v;
}

function parseArgs(argv: readonly string[]): Args {
  const out: Args = { inbound: new Map(), excludeOutboundPorts: [], excludeInboundPorts: [], excludeOutboundIPRanges: [], includeOutboundIPRanges: null, dryRun: false, help: false };
  out.help = readFlags(argv, {
    "--pod-ip": (f) => { out.podIp = ipv4(f.flag, f.required("an IPv4 address")); },
    "--node-ip": (f) => { out.nodeIp = ipv4(f.flag, f.required("an IPv4 address")); },
    "--inbound-ports": (f) => {
      // May be empty: a pod that declares no port still has its outbound captured.
      for (const item of list(f.value() ?? "")) {
        const [app, listener] = item.split(":");
        out.inbound.set(port(f.flag, app as string), listener === undefined ? inboundListenerPort(out.inbound.size) : port(f.flag, listener));
      }
    },
    "--exclude-outbound-ports": (f) => { out.excludeOutboundPorts.push(...ports(f.flag, f.required("a list of ports"))); },
    "--exclude-inbound-ports": (f) => { out.excludeInboundPorts.push(...ports(f.flag, f.required("a list of ports"))); },
    "--exclude-outbound-ip-ranges": (f) => { out.excludeOutboundIPRanges.push(...cidrs(f.flag, f.required("a list of IPv4 CIDRs"))); },
    "--include-outbound-ip-ranges": (f) => {
      const v = f.value() ?? "";
      out.includeOutboundIPRanges = v.trim() === "*" ? null : cidrs(f.flag, v);
    },
    "--dry-run": () => { out.dryRun = true; },
  });
  if (!out.help && (out.podIp === undefined || out.nodeIp === undefined)) throw new UsageError("--pod-ip and --node-ip are required");
  return out;
}

export const captureCommand: Command = {
  name: "capture",
  run: runParsed("capture", CAPTURE_HELP, parseArgs, async (args) => {
    const rules = captureRules({
      podIp: args.podIp as string,
      nodeIp: args.nodeIp as string,
      inbound: args.inbound,
      inboundListenerPorts: [...new Set(args.inbound.values())],
      excludeOutboundPorts: args.excludeOutboundPorts,
      excludeInboundPorts: args.excludeInboundPorts,
      excludeOutboundIPRanges: args.excludeOutboundIPRanges,
      includeOutboundIPRanges: args.includeOutboundIPRanges,
      services: [],
    });
    if (args.dryRun) {
      process.stdout.write(rules);
      return 0;
    }
    try {
      await run("iptables-restore", [], rules);
    } catch (e) {
      process.stderr.write(`amime capture: ${(e as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`amime capture: rules installed (outbound → 15001, ${args.inbound.size} inbound port(s))\n`);
    return 0;
  }),
};
