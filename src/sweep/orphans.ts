// Sweep, part two: the backstop for machines that outlived their lease. Runs the orphan sweep
// (provider.ts) for every configured provider, one at a time, and records the run in D1.

import { loadConfig } from "../config";
import { createPacer, pacingEnabled } from "../pacing/pacer";
import type { ProviderSweep, SweepRun } from "../contract/sweep";
import { recordRun } from "../ledger/sweeps";
import { redact } from "../providers/http";
import { providerConfig, providerFactories, secretValues } from "../providers/registry";
import { emptyReport, sweepProvider } from "./provider";

export interface SweepOptions {
  trigger: SweepRun["trigger"];
  dryRun?: boolean;
  /** Only these providers (already checked to be configured); default: every configured one. */
  providers?: readonly string[];
}

/** Names of the providers a sweep covers: the configured ones, as the lease API sees them. */
export function sweepableProviders(env: Env): string[] {
  const config = providerConfig(env);
  return providerFactories()
    .filter((factory) => factory.configured(config))
    .map((factory) => factory.name);
}

/**
 * Providers are swept one after another: that bounds the run's concurrent subrequests, and a
 * provider that throws (D1 hiccup, misconfigured adapter) is recorded as failed while the
 * others still run. Worst case per provider: 100 inventory pages + 500 claim RPCs + 30 release
 * steps + a few D1 batches, within a cron invocation's limits.
 */
export async function sweepOrphans(env: Env, now: number, options: SweepOptions): Promise<SweepRun> {
  const config = loadConfig(env);
  const secrets = secretValues(env);
  const scrub = (text: string) => redact(text, secrets);
  const wanted = options.providers ? new Set(options.providers) : undefined;
  const names = sweepableProviders(env).filter((name) => !wanted || wanted.has(name));
  const reports: ProviderSweep[] = [];
  for (const name of names) {
    const factory = providerFactories().find((f) => f.name === name)!;
    try {
      // The sweep reclaims billing machines: its listing and releases go at release priority.
      const pacer = createPacer({ env, account: name, limits: factory.rateLimits, priority: "release" });
      const adapter = factory.create({ ...providerConfig(env), pacer, sharedReads: pacingEnabled(env) });
      reports.push(
        await sweepProvider({ env, adapter, deploymentId: config.deploymentId, now, graceMs: config.sweepGraceMs, dryRun: options.dryRun ?? false, redact: scrub }),
      );
    } catch (err) {
      const message = scrub(err instanceof Error ? err.message : String(err));
      console.error(`sweep: provider ${name} failed: ${message}`);
      reports.push({ ...emptyReport(name), error: message, failures: 1 });
    }
  }
  const run: SweepRun = {
    id: crypto.randomUUID(),
    trigger: options.trigger,
    dryRun: options.dryRun ?? false,
    startedAt: new Date(now).toISOString(),
    finishedAt: new Date(Math.max(now, Date.now())).toISOString(),
    graceSeconds: config.sweepGraceMs / 1_000,
    providers: reports,
  };
  await recordRun(env.DB, run);
  return run;
}

/** One log line per provider, for `wrangler tail`; the full record is in D1. */
export function summarize(run: SweepRun): string {
  const parts = run.providers.map(
    (p) =>
      `${p.provider}: ${p.complete ? "" : `INCOMPLETE (${p.error}) `}seen ${p.seen}, ours ${p.ours}, claimed ${p.claimed}, ` +
      `candidates ${p.candidates}, reclaimed ${p.reclaimed}, failures ${p.failures}`,
  );
  return `sweep ${run.dryRun ? "(dry run) " : ""}${run.id}: ${parts.join("; ") || "no configured providers"}`;
}
