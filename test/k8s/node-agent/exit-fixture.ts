// A process that runs a test node agent and exits without stopping it (as a crashed or
// watchdog-ended test file does): node-agent.test.ts checks that the agent's exit hook killed its
// pods' processes and removed its namespaces. Usage: exit-fixture.ts SERVER TOKEN CA_FILE NODE_NAME;
// prints {"runId"} once the agent runs, exits with 3 on SIGUSR2.
import { NodeAgent } from "./node-agent.ts";

const [server, token, caFile, nodeName] = process.argv.slice(2) as [string, string, string, string];
const agent = await NodeAgent.start({ server, token, caFile, nodeName });
process.on("SIGUSR2", () => process.exit(3));
process.stdout.write(`${JSON.stringify({ runId: agent.network.resources.runId })}\n`);
