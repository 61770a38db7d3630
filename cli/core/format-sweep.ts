// Human-readable sweep runs (admin sweep, admin sweeps): per-provider counts, then every decision.
import type { SweepRun } from "../../src/contract/sweep";
import { type Colors, table } from "./output";

export function sweepLines(color: Colors, run: SweepRun): string[] {
  const title = `${color.bold(`sweep ${run.id}`)} (${run.trigger}${run.dryRun ? ", dry run: nothing changed" : ""}) ${run.startedAt}`;
  if (run.providers.length === 0) return [title, "  no provider was swept"];
  const counts = table(
    color,
    ["PROVIDER", "COMPLETE", "SEEN", "OURS", "CLAIMED", "CANDIDATES", "RECLAIMABLE", "RECLAIMED", "FAILURES", "UNCHECKED"],
    run.providers.map((each) => [
      each.provider,
      each.complete ? "yes" : `no${each.error ? `: ${each.error}` : ""}`,
      ...[each.seen, each.ours, each.claimed, each.candidates, each.reclaimable, each.reclaimed, each.failures, each.unchecked].map(String),
    ]),
  );
  const decisions = run.providers.flatMap((each) => each.decisions.map((decision) => ({ provider: each.provider, ...decision })));
  const omitted = run.providers.reduce((sum, each) => sum + each.decisionsOmitted, 0);
  const decisionRows = decisions.map((decision) => [
    decision.provider,
    decision.resourceId,
    decision.leaseId,
    decision.status,
    decision.verdict,
    decision.action,
    decision.reason + (decision.detail ? ` (${decision.detail})` : ""),
  ]);
  return [
    title,
    ...counts.map((line) => `  ${line}`),
    ...(decisionRows.length
      ? ["", ...table(color, ["PROVIDER", "RESOURCE", "LEASE", "STATUS", "VERDICT", "ACTION", "REASON"], decisionRows).map((line) => `  ${line}`)]
      : []),
    ...(omitted ? [`  (${omitted} more decisions not recorded)`] : []),
    ...sideObjectLines(run),
  ];
}

/** Key objects and Secrets left by leases that are over: only when there is something to say. */
function sideObjectLines(run: SweepRun): string[] {
  return run.providers.flatMap(({ provider, sideObjects: side }) => {
    if (!side || (side.stranded === 0 && side.error === undefined)) return [];
    if (side.error !== undefined) return [`  ${provider}: side objects could not be listed: ${side.error}`];
    const head = `  ${provider}: ${side.stranded} stranded side object(s) of ${side.listed}, ${side.removed} removed`;
    return [head, ...side.objects.map((o) => `    ${o.kind} ${o.id} (lease ${o.leaseId}): ${o.action}${o.detail ? ` (${o.detail})` : ""}`)];
  });
}
