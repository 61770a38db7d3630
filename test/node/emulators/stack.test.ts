// The pieces of scripts/stack.mjs that need no running coordinator: .dev.vars parsing (which
// decides between the emulator and the real Lambda API) and refusing a port already in use.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { startStack } from "../../../scripts/stack.mjs";
import { parseDevVars } from "../../../scripts/stack-process.mjs";

describe("parseDevVars", () => {
  it("reads KEY=VALUE lines, strips quotes, skips comments and blanks", () => {
    const text = [
      "# real Lambda for this checkout",
      "LAMBDA_API_KEY=secret_abc",
      'CRABBOX_ADMIN_TOKEN="admin-token-with=equals"',
      "export OTHER='x y'",
      "",
      "not a line",
    ].join("\n");
    expect(parseDevVars(text)).toEqual({
      LAMBDA_API_KEY: "secret_abc",
      CRABBOX_ADMIN_TOKEN: "admin-token-with=equals",
      OTHER: "x y",
    });
  });
});

describe("startStack", () => {
  it("refuses a coordinator port that is already taken, before starting anything", async () => {
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, "127.0.0.1", () => resolve((holder.address() as net.AddressInfo).port)),
    );
    try {
      await expect(startStack({ port, log: () => {} })).rejects.toThrow(/in use/);
    } finally {
      holder.close();
    }
  });
});
