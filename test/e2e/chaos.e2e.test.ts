// The chaos suite's smaller run in CI: about 100 lease lifecycles across the five providers with
// every fault the emulators inject and one coordinator crash (-9) and restart on the same state;
// nothing may be left, created twice, touched that is not ours, or answered with a 5xx.
// `npm run chaos` is the full run (500 lifecycles, two restarts).
import { describe, expect, it } from "vitest";
import { runChaos } from "../../scripts/chaos/run.mjs";
import { assertBuilt } from "../node/cli/helpers/run-cli";

describe("chaos (the CI-sized run)", () => {
  it("100 lifecycles, faults everywhere, one coordinator restart: nothing leaks", async () => {
    assertBuilt();
    const lines: string[] = [];
    const report = await runChaos({ lifecycles: 100, restarts: 1, concurrency: 16, seed: 20261202, log: (line: string) => lines.push(line) });
    const summary = lines.filter((l) => !l.startsWith("chaos: ")).join("\n");
    expect(report.violations, summary).toEqual([]);
    expect(report.leases).toBeGreaterThanOrEqual(95);
    expect(report.faults.injected).toBeGreaterThan(20);
    for (const provider of ["lambda", "vast", "fal", "coder", "sealos"]) {
      expect(report.providers[provider], summary).toMatchObject({ notTerminal: 0, leftovers: 0, createdTwice: 0, foreignTouched: 0, serverErrors: 0 });
    }
    console.log(summary);
  }, 1_200_000);
});
