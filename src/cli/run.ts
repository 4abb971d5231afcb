// Where `amime` starts once it runs on Node 24: bin/amime.js loads it from the TypeScript sources,
// and sidecars started by a runtime load the bundle of the built copy's run-proxy.ts (dist/bundle/run-proxy.js, src/runtime/js-build/).
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
