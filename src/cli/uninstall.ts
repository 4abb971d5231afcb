// `amime uninstall`: print (or delete with kubectl) what `amime install` put into a cluster.
import { stringify } from "yaml";
import type { JsonObject } from "../model/resource.ts";
import { CONFIG_LABEL, ROOT_CERT_CONFIG_MAP } from "../control-plane/kubernetes/root-cert-publisher.ts";
import type { Command } from "./command.ts";
import { runParsed } from "./lib/args.ts";
import { kubectl } from "./install/kubectl.ts";
import { NAME } from "./install/manifests.ts";
import { manifestsOf, parseInstallArgs, render } from "./install/options.ts";

export const UNINSTALL_HELP = `Usage: amime uninstall [-n NAMESPACE] [--purge] [-o yaml|json]
       amime uninstall --apply [--dry-run=server] [--purge] [--kubeconfig FILE] [--context NAME] [--kubectl PATH]

Print the objects \`amime install\` creates, webhooks first (so that the API server stops calling
the control plane before it goes), or delete them with kubectl (\`--apply\`: \`kubectl delete
--ignore-not-found -f -\`). Istio's CRDs, and with them every Istio resource in the cluster, are
kept unless --purge (as \`istioctl uninstall\`). The namespace is deleted with the rest.
Options as \`amime install\` (docs/kubernetes.md), plus:
      --purge           also delete Istio's CRDs; with --apply, once the control plane's pods
                        are gone, also the ConfigMaps istio-ca-root-cert it wrote into every
                        namespace (labelled istio.io/config=true), which are kept otherwise, as
                        Istio keeps them for the pods still mounting them
`;

export const uninstallCommand: Command = {
  name: "uninstall",
  run: runParsed("uninstall", UNINSTALL_HELP, (argv) => parseInstallArgs(argv, "uninstall"), async (args) => {
    let objects;
    try {
      objects = await manifestsOf(args, false);
    } catch (e) {
      process.stderr.write(`amime uninstall: ${(e as Error).message}\n`);
      return 1;
    }
    const doomed = objects.filter((o) => args.purge || o.kind !== "CustomResourceDefinition").reverse();
    // Only identities are needed to delete: no CA key in what is printed or piped.
    const ids: JsonObject[] = doomed.map((o) => {
      const meta = o.metadata as { name: string; namespace?: string };
      const id: JsonObject = { name: meta.name };
      if (meta.namespace !== undefined) id.namespace = meta.namespace;
      return { apiVersion: o.apiVersion as string, kind: o.kind as string, metadata: id };
    });
    if (!args.apply) {
      process.stdout.write(render(ids, args.output, (o) => stringify(o)));
      return 0;
    }
    const dryRun = args.dryRun !== undefined ? [`--dry-run=${args.dryRun}`] : [];
    const code = await kubectl(args.target, ["delete", "--ignore-not-found", "--wait=false", ...dryRun, "-f", "-"], render(ids, "yaml", (o) => stringify(o)));
    if (code !== 0 || !args.purge || args.dryRun !== undefined) return code;
    // The mesh root the control plane published: only once it has stopped, or it would write them again.
    const waited = await kubectl(args.target, ["wait", "--for=delete", "pod", "-l", `app=${NAME}`, "-n", args.namespace, "--timeout=300s"], "");
    if (waited !== 0) return waited;
    return kubectl(args.target, ["delete", "configmap", "--all-namespaces", "-l", `${CONFIG_LABEL}=true`, "--field-selector", `metadata.name=${ROOT_CERT_CONFIG_MAP}`, "--ignore-not-found"], "");
  }),
};
