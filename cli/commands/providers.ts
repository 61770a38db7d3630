// `crabbox providers`: what the coordinator can lease from, and each provider's capabilities
// (the capability matrix, src/contract/matrix.ts: the same table the README and console show).
import { MATRIX_HEADER, capabilityRow } from "../../src/contract/matrix";
import { defineCommand } from "../core/command";
import { table } from "../core/output";

export default defineCommand({
  path: "providers",
  summary: "list the coordinator's providers and what they support",
  json: true,
  async run(ctx) {
    const answer = await ctx.client().providers();
    ctx.out.result(answer, () =>
      table(
        ctx.out.color,
        [...MATRIX_HEADER, "default type", "default region"].map((h) => h.toUpperCase()),
        answer.providers.map((provider) => [...capabilityRow(provider), provider.defaults.type ?? "-", provider.defaults.region ?? "-"]),
      ),
    );
  },
});
