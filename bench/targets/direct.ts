// direct: the client talks to the upstream itself (the floor every proxy adds to).
import type { RunningTarget, StartContext, TargetFactory } from "./target.ts";

export const directTarget: TargetFactory = {
  name: "direct",
  unavailable: () => null,
  async start(ctx: StartContext): Promise<RunningTarget> {
    return { name: "direct", port: ctx.upstreamPort, authority: "bench", pids: () => [], stop: async () => {} };
  },
};
