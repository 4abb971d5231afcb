// The dashboard's static files: its pages and browser modules (src/dashboard/ui/, and the pure
// shaping modules of src/dashboard/shape/ it shares with the tests), served with their TypeScript
// types stripped (no bundler, no build step), and the two libraries it draws with, Cytoscape.js
// and uPlot, served from node_modules as they were installed. Read asynchronously, kept in memory
// after the first request.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stripTypes } from "../../core/strip-types.ts";

const DASHBOARD = resolve(import.meta.dirname, "..");
const MODULES = resolve(DASHBOARD, "..", "..", "node_modules");

const VENDOR: Record<string, string> = {
  "cytoscape.esm.min.mjs": join(MODULES, "cytoscape", "dist", "cytoscape.esm.min.mjs"),
  "uPlot.esm.js": join(MODULES, "uplot", "dist", "uPlot.esm.js"),
  "uPlot.min.css": join(MODULES, "uplot", "dist", "uPlot.min.css"),
};

const TYPES: Record<string, string> = {
  ".ts": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".png": "image/png",
};

export interface Asset {
  type: string;
  body: Buffer;
}

const cache = new Map<string, Promise<Asset | null>>();

/** The file behind a dashboard URL path (`/dashboard/assets/ui/app.ts`, `/dashboard/vendor/…`), or null. */
export function assetFile(path: string): string | null {
  if (path.startsWith("/dashboard/vendor/")) return VENDOR[path.slice("/dashboard/vendor/".length)] ?? null;
  const m = /^\/dashboard\/assets\/(ui|shape)\/([a-z0-9-]+\.(?:ts|css|html|png))$/.exec(path);
  if (m === null || m[2]!.endsWith(".test.ts")) return null;
  return join(DASHBOARD, m[1]!, m[2]!);
}

export function loadAsset(file: string): Promise<Asset | null> {
  let p = cache.get(file);
  if (p === undefined) {
    p = readFile(file).then(
      (buf) => {
        const ext = file.slice(file.lastIndexOf("."));
        const body = ext === ".ts" ? Buffer.from(stripTypes(buf.toString("utf8"))) : buf;
        return { type: TYPES[ext] ?? "application/octet-stream", body };
      },
      () => null,
    );
    cache.set(file, p);
  }
  return p;
}

export const INDEX_HTML = join(DASHBOARD, "ui", "index.html");
