import { env, runDurableObjectAlarm } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { registry } from "../../src/index";
it("shares modules and fake Date with the DO", async () => {
  registry.set("x", "y");
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(1_000_000);
  const stub = env.LEASES.get(env.LEASES.idFromName("a"));
  const r = await stub.hello();
  expect(r.reg).toEqual(["x"]);
  expect(r.now).toBe(1_000_000);
  vi.useRealTimers();
});
