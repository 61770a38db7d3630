// `crabbox doctor [--provider P]`: the coordinator's read-only checks of one provider, or of every
// configured one. Exits 9 when a check fails, so scripts can gate on it.
import type { DoctorReport } from "../../src/contract/meta";
import { defineCommand } from "../core/command";
import { EXIT } from "../core/errors";

interface Options {
  provider?: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "doctor",
  summary: "check providers' credentials and configuration (all configured ones by default)",
  json: true,
  options: [{ flags: "--provider <name>", description: "check only this provider" }],
  async run(ctx, { opts }) {
    const client = ctx.client();
    const names = opts.provider
      ? [opts.provider]
      : (await client.providers()).providers.filter((provider) => provider.configured).map((provider) => provider.name);
    const reports: DoctorReport[] = [];
    for (const name of names) reports.push(await client.doctor(name));
    const { color } = ctx.out;
    const mark = { ok: color.green("✓"), warn: color.yellow("!"), fail: color.red("✗") } as const;
    ctx.out.result({ reports }, () => {
      if (reports.length === 0) return "No provider is configured on this coordinator.";
      return reports.flatMap((report) => [
        `${color.bold(report.provider)}: ${report.ok ? color.green("ok") : color.red("problems found")}`,
        ...report.checks.map((check) => `  ${mark[check.status]} ${check.name}: ${check.detail}${check.hint ? color.dim(` (${check.hint})`) : ""}`),
      ]);
    });
    return reports.every((report) => report.ok) ? EXIT.ok : EXIT.server;
  },
});
