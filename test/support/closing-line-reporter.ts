// Prints the plain closing line CI reads: "Tests: N passed, N failed" (also on failure).
import type { Reporter, TestModule } from "vitest/node";

export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>, reason: string): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      // A file that failed outside any test (setup, import) counts as a failure of its own.
      const failedTests = [...mod.children.allTests()].some((test) => test.result().state === "failed");
      if (mod.state() === "failed" && !failedTests) failed++;
    }
    // Errors outside any file (global setup, unhandled rejections) must not read as a pass.
    failed += unhandledErrors.length;
    if (reason === "failed" && failed === 0) failed = 1;
    const tail = skipped ? `, ${skipped} skipped` : "";
    process.stdout.write(`\nTests: ${passed} passed, ${failed} failed${tail}\n`);
  }
}
