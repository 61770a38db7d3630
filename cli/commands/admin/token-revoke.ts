// `crabbox admin token revoke <id>`: the token stops working at once.
import { defineCommand } from "../../core/command";

export default defineCommand({
  path: "admin token revoke",
  summary: "revoke an API token by id",
  args: ["<id>"],
  json: true,
  async run(ctx, { args: [id = ""] }) {
    const info = await ctx.client().revokeToken(id);
    ctx.out.result(info, () => `Revoked token ${info.id} of ${info.owner}${info.revokedAt ? ` at ${info.revokedAt}` : ""}.`);
  },
});
