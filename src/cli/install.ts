// `amime install`: print (or apply with kubectl) everything Amime needs in a cluster.
import { stringify } from "yaml";
import type { Command } from "./command.ts";
import { runParsed } from "./lib/args.ts";
import { kubectl } from "./install/kubectl.ts";
import { DEFAULT_IMAGE, manifestsOf, parseInstallArgs, render } from "./install/options.ts";

export const INSTALL_HELP = `Usage: amime install [--image IMAGE] [-n NAMESPACE] [--cacerts DIR] [-o yaml|json]
       amime install --apply [--dry-run=server] [--kubeconfig FILE] [--context NAME] [--kubectl PATH] …

Print everything Amime needs in a Kubernetes cluster (like \`istioctl manifest generate\`), or
apply it with kubectl (\`--apply\`: \`kubectl apply --server-side -f -\` with your kubeconfig):
the namespace (default istio-system, labelled istio-injection=disabled), Istio's CRDs, the
plug-in CA secret \`cacerts\`, a ServiceAccount with a ClusterRole to read Services, pods,
EndpointSlices, namespaces and Istio config, the control plane's Deployment and Service
(amime.<ns>.svc: 15012 for sidecars, 443 for the webhooks), and the validating and mutating
webhook configurations with the mesh root as caBundle (docs/kubernetes.md, "amime install").

Options:
      --image IMAGE     the Amime image (control plane and sidecar; built from the Dockerfile,
                        default ${DEFAULT_IMAGE})
  -n, --namespace NS    where the control plane runs (default istio-system)
      --cacerts DIR     Istio's plug-in CA files (ca-cert.pem, ca-key.pem, root-cert.pem,
                        cert-chain.pem); default: a self-signed root made once in
                        STATE_DIR/cluster-ca and reused
      --state-dir DIR   default ./.amime
      --trust-domain TD default cluster.local
  -o, --output FMT      yaml (default; documents separated by ---) or json (a v1 List)
      --apply           apply with kubectl instead of printing
      --dry-run MODE    with --apply: server (the API server checks everything, stores nothing)
                        or client
      --kubeconfig FILE, --context NAME, --kubectl PATH   passed to / used as kubectl
  -h, --help            show this help

Exit status: 0 on success, kubectl's status with --apply, 1 on a bad CA bundle, 2 on usage errors.
`;

export const installCommand: Command = {
  name: "install",
  run: runParsed("install", INSTALL_HELP, (argv) => parseInstallArgs(argv, "install"), async (args) => {
    let objects;
    try {
      objects = await manifestsOf(args);
    } catch (e) {
      process.stderr.write(`amime install: ${(e as Error).message}\n`);
      return 1;
    }
    if (!args.apply) {
      process.stdout.write(render(objects, args.output, (o) => stringify(o)));
      return 0;
    }
    const dryRun = args.dryRun !== undefined ? [`--dry-run=${args.dryRun}`] : [];
    return kubectl(args.target, ["apply", "--server-side", "--field-manager", "amime", "--force-conflicts", ...dryRun, "-f", "-"], render(objects, "yaml", (o) => stringify(o)));
  }),
};
