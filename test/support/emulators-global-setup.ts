// Placeholder until the Lambda emulator lands: provides the ports the worker project injects.
import type { TestProject } from "vitest/node";
export default function setup(project: TestProject) {
  project.provide("lambdaPort", 1);
  project.provide("lambdaSshPort", 1);
}
