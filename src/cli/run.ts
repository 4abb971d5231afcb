// Where `amime` starts once it runs on Node 24: bin/amime.js loads it from the TypeScript sources,
// and sidecars started by a runtime load the built copy (dist/cli/run.js, src/runtime/js-build/).
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
