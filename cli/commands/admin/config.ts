// `crabbox admin config`: the coordinator's effective configuration: every non-secret setting
// with its value and source, every credential only as configured or missing.
import { defineCommand } from "../../core/command";
import { table } from "../../core/output";

export default defineCommand({
  path: "admin config",
  summary: "show the coordinator's effective configuration (credentials only as configured/missing)",
  json: true,
  async run(ctx) {
    const config = await ctx.client().adminConfig();
    ctx.out.result(config, () => [
      ...table(ctx.out.color, ["SETTING", "VALUE", "SOURCE"], config.settings.map((s) => [s.name, s.value || "-", s.source])),
      "",
      ...table(ctx.out.color, ["CREDENTIAL", "PROVIDER", "STATUS"], config.credentials.map((c) => [c.name, c.provider ?? "-", c.status])),
    ]);
  },
});
