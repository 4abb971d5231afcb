// Walking a parsed YAML tree by field path, for the parsers that report file:line: a Resource's
// positionOf and the MeshConfig reader both point findings at the key (or list item) a path
// names. Pure (no node:*).
import { isMap, isScalar, isSeq, type Node as YamlNode, type Pair, type YAMLMap } from "yaml";
import type { SourcePosition } from "../model/diagnostic.ts";
import type { FieldPath } from "../model/resource.ts";

/** The entry of `map` whose key is `seg` (keys compared as strings, as YAML writes them). */
export function entryOf(map: YAMLMap, seg: string | number): Pair | undefined {
  return map.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
}

/** Position of the key (map entries) or item (sequences) at `path`; nearest ancestor if missing. */
export function positionIn(root: YamlNode | null, path: FieldPath, pos: (offset: number) => SourcePosition): SourcePosition | null {
  let node: unknown = root;
  let best: number | null = root?.range?.[0] ?? null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = entryOf(node, seg);
      if (!pair) break;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      if (keyRange) best = keyRange[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      if (item.range) best = item.range[0];
      node = item;
    } else break;
  }
  return best === null ? null : pos(best);
}

/** The first line of a YAML library message (its later lines draw the source excerpt). */
export function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
