// `npm run build`: write (or bring up to date) dist/, the JavaScript tree sidecars run from. `amime
// up` does the same when it starts; this is for an image (Dockerfile) or a read-only installation,
// which must carry the tree already built.
import { REPO_ROOT } from "../paths.ts";
import { buildJsTree } from "./js-build.ts";
import { jsTreeOf } from "./sidecar-launch.ts";

const tree = jsTreeOf(REPO_ROOT);
const r = await buildJsTree(tree.src, tree.out);
process.stdout.write(`${tree.out}: ${r.written} written, ${r.unchanged} up to date, ${r.removed} removed\n`);
