// `npm run build`: write (or bring up to date) dist/, the JavaScript tree, and dist/bundle/, its
// bundle, which sidecars run. `amime up` does the same when it starts; this is for an image
// (Dockerfile) or a read-only installation, which must carry both already built.
import { REPO_ROOT } from "../paths.ts";
import { bundleTree } from "./bundle.ts";
import { buildJsTree } from "./js-build.ts";
import { jsTreeOf } from "./sidecar-launch.ts";

const tree = jsTreeOf(REPO_ROOT);
const r = await buildJsTree(tree.src, tree.out, tree.bundle);
process.stdout.write(`${tree.out}: ${r.written} written, ${r.unchanged} up to date, ${r.removed} removed\n`);
const bundled = await bundleTree(tree, r.fingerprint);
process.stdout.write(`${tree.bundleEntry}: ${bundled ? "bundled" : "up to date"}\n`);
