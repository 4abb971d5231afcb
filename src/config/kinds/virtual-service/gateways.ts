// Gateway references in a VirtualService (`ns/name`, `name`, the reserved `mesh`).
import { fqdnError, isDns1123Label } from "../../checks/host.ts";
import type { FieldPath } from "../../../model/resource.ts";
import type { Validator } from "../../validator.ts";

export function checkGatewayNames(v: Validator, path: FieldPath, names: readonly string[]): void {
  names.forEach((name, i) => {
    const at = [...path, i];
    const slash = name.indexOf("/");
    if (slash < 0) {
      if (name.includes(".")) {
        const parts = name.split(".");
        v.warn(at, `using legacy gatewayName format ${JSON.stringify(name)}; prefer the <namespace>/<name> format: ${JSON.stringify(`${parts[1]}/${parts[0]}`)}`);
      }
      const err = fqdnError(name);
      if (err) v.error(at, err);
      return;
    }
    const ns = name.slice(0, slash);
    const gw = name.slice(slash + 1);
    if (ns === "" || gw === "") v.error(at, "config namespace and gateway name cannot be empty");
    if (!isDns1123Label(ns)) v.error(at, `invalid value for namespace: ${JSON.stringify(ns)}`);
    if (!isDns1123Label(gw)) v.error(at, `invalid value for gateway name: ${JSON.stringify(gw)}`);
  });
}
