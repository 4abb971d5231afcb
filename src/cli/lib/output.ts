// Structured output for `-o yaml|json`: the same value, serialized the way kubectl does (two-space
// JSON, block-style YAML without line folding).
import { stringify } from "yaml";

export type StructuredFormat = "yaml" | "json";

export function formatStructured(value: unknown, format: StructuredFormat): string {
  if (format === "json") return `${JSON.stringify(value, null, 2)}\n`;
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}
