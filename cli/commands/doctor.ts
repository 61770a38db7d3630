// `crabbox doctor [--provider P]`: the coordinator's read-only checks of one provider, or of every
// configured one, plus what this client needs to reach its machines (cli/core/local-checks.ts).
// Exits 9 when a check fails, so scripts can gate on it.
import type { DoctorReport } from "../../src/contract/meta";
import { defineCommand } from "../core/command";
import { EXIT } from "../core/errors";
import { clientChecks } from "../core/local-checks";

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
    const { providers } = await client.providers();
    const names = opts.provider ? [opts.provider] : providers.filter((provider) => provider.configured).map((provider) => provider.name);
    const reports: DoctorReport[] = [];
    for (const name of names) {
      const report = await client.doctor(name);
      // What this client needs to reach the provider's machines (a proxy command on PATH).
      const local = providers.find((provider) => provider.name === name);
      const checks = local ? clientChecks(local) : [];
      reports.push({ ...report, ok: report.ok && checks.every((check) => check.status !== "fail"), checks: [...report.checks, ...checks] });
    }
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
