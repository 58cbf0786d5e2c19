/** The baseline: the client talks to the upstream itself. Every "added" figure is over this. */
import type { ContestantSpec } from "../types.ts";

export const direct: ContestantSpec = {
  id: "direct",
  label: "direct (no gateway)",
  async unavailable() {
    return undefined;
  },
  async start(ctx) {
    return {
      id: "direct",
      label: "direct (no gateway)",
      baseUrl: `${ctx.upstreamOrigin}/v1`,
      headers: { authorization: `Bearer ${ctx.upstreamKey}` },
      pid: undefined,
      version: "-",
      async stop() {},
    };
  },
};
