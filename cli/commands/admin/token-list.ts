// `crabbox admin token list`: every token's metadata (never the secrets).
import { defineCommand } from "../../core/command";
import { table } from "../../core/output";

export default defineCommand({
  path: "admin token list",
  summary: "list API tokens",
  json: true,
  async run(ctx) {
    const answer = await ctx.client().listTokens();
    ctx.out.result(answer, () =>
      table(
        ctx.out.color,
        ["ID", "OWNER", "ROLE", "LABEL", "CREATED", "REVOKED"],
        answer.tokens.map((token) => [token.id, token.owner, token.role, token.label ?? "-", token.createdAt, token.revokedAt ?? "-"]),
      ),
    );
  },
});
