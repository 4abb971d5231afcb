// What translation reads from a snapshot's resources alone — the label keys that selectors read
// from a proxy, the DestinationRules' host index, each VirtualService's resolved hosts — made for a
// snapshot of the resources when the config changes (push/proxy-configs.ts). The snapshots of one
// set of resources share their lists (model/snapshot.ts) and these are kept by list, so the first
// translation after a registration finds them made instead of making them while a starting sidecar
// waits (docs/performance.md, "Session 16: the pushed 1,000-service start").
import type { Snapshot } from "../../model/snapshot.ts";
import { destinationRuleIndex, resolvedVsHosts } from "./index-cache.ts";
import { selectedLabelKeys } from "./proxy-class.ts";

export function prepareResourceIndexes(snapshot: Snapshot): void {
  selectedLabelKeys(snapshot);
  destinationRuleIndex(snapshot);
  for (const vs of snapshot.virtualServices) resolvedVsHosts(vs, snapshot.mesh.domainSuffix);
}
