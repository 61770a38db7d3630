// The README's capability matrix is generated from the providers' declared capabilities, by the
// same function `crabbox providers` and the console use; this fails when they disagree.
// `UPDATE_README=1 npx vitest run --project node test/node/docs` rewrites the table.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { capabilityMarkdown } from "../../../src/contract/matrix";
import { providerInfo } from "../../../src/providers/info";
import { BUILT_IN_PROVIDERS } from "../../../src/providers/factories";

const START = "<!-- capability-matrix:start (generated: test/node/docs/capability-matrix.test.ts) -->";
const END = "<!-- capability-matrix:end -->";

describe("the README's capability matrix", () => {
  it("matches what the providers declare", () => {
    const expected = capabilityMarkdown(BUILT_IN_PROVIDERS.map((factory) => providerInfo(factory, { deploymentId: "readme", vars: {} })));
    const readme = readFileSync("README.md", "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, `README.md needs the markers ${START} … ${END}`).toBeGreaterThan(0);
    const current = readme.slice(start + START.length, end).trim();
    if (process.env.UPDATE_README === "1" && current !== expected) {
      writeFileSync("README.md", `${readme.slice(0, start + START.length)}\n${expected}\n${readme.slice(end)}`);
      return;
    }
    expect(current, "run UPDATE_README=1 npx vitest run --project node test/node/docs").toBe(expected);
  });
});
