// Spend inside workerd: admission reserves a lease's price over its TTL against its owner's
// budget atomically, a lease's cost accrues from its create until its machine is gone (at the
// storage rate while parked), is split per month, and settles to the actual on end.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, call, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";
import { fakeCloud } from "../../support/fake-cloud";

const HOUR = 3_600_000;
let owner: string;
let token: string;
let n = 0;

beforeEach(async () => {
  fakeCloud.reset();
  owner = `spender${++n}`;
  token = await mintToken(owner);
});
afterEach(() => {
  vi.useRealTimers();
});

async function budget(body: Record<string, unknown>) {
  const res = await call("PUT", `/v1/admin/owners/${owner}/budget`, { token: ADMIN_TOKEN, body });
  expect(res.status, res.text).toBe(200);
  return res.json;
}
const create = async (extra: Record<string, unknown> = {}) => call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), ...extra } });
const usage = async (month?: string) => (await call("GET", `/v1/usage${month ? `?month=${month}` : ""}`, { token })).json;

describe("budgets", () => {
  it("20 concurrent creates against a monthly budget that fits 7: exactly 7 are admitted, none of the others touch the provider", async () => {
    useFakeClock(Date.UTC(2030, 0, 10));
    fakeCloud.listCents = 100; // $1/h
    await budget({ monthly: 7 });
    const results = await Promise.all(Array.from({ length: 20 }, () => create({ ttl: "1h" })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(7);
    expect(statuses.filter((s) => s === 402)).toHaveLength(13);
    const refused = results.find((r) => r.status === 402)!;
    expect(refused.json.error).toMatchObject({ code: "budget_exceeded", message: expect.stringContaining("reserves $1.00") });
    // Admission refused before any create reached the provider.
    for (const r of results.filter((r) => r.status === 201)) await driveUntil(r.json.id, token, inState("ready"));
    expect(fakeCloud.calls.filter((c) => c.op === "create")).toHaveLength(7);
    const month = await usage();
    expect(month).toMatchObject({ owner, month: "2030-01", monthlyLimitCents: 700, liveRateCentsPerHour: 700 });
    expect(month.spentCents + month.reservedCents).toBeLessThanOrEqual(700);
  });

  it("a rate limit caps what live leases may spend per hour together", async () => {
    useFakeClock(Date.UTC(2030, 0, 10));
    fakeCloud.listCents = 250;
    await budget({ ratePerHour: 6 });
    expect((await create()).status).toBe(201);
    expect((await create()).status).toBe(201);
    const third = await create();
    expect([third.status, third.json.error.code]).toEqual([402, "budget_exceeded"]);
    expect(third.json.error.message).toContain("$5.00/h your live leases hold");
    // A lease with no price reserves nothing and is not refused.
    fakeCloud.listCents = undefined;
    expect((await create()).status).toBe(201);
  });

  it("settles to the actual cost on release: the create's exact price replaces the reservation", async () => {
    const clock = useFakeClock(Date.UTC(2030, 0, 10));
    fakeCloud.listCents = 300; // the ceiling reserved at admission
    fakeCloud.actualPrice = { centsPerHour: 120 }; // what the market's offer really costs
    await budget({ monthly: 5 });
    const lease = (await create({ ttl: "1h" })).json;
    expect(lease.priceCentsPerHour).toBe(300);
    const ready = await driveUntil(lease.id, token, inState("ready"));
    expect(ready.priceCentsPerHour).toBe(120);
    const started = Date.now();
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    clock.advance(30 * 60_000 - (Date.now() - started));
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const final = await driveUntil(lease.id, token, inState("released"));
    const billedMs = Date.parse(final.endedAt) - started;
    expect(final.costCents).toBe(Math.round((120 * billedMs) / HOUR));
    const month = await usage("2030-01");
    expect(month).toMatchObject({ spentCents: final.costCents, reservedCents: 0, liveRateCentsPerHour: 0 });
    expect(month.leases).toEqual([expect.objectContaining({ id: lease.id, spentCents: final.costCents, reservedCents: 0 })]);
    // The freed reservation lets the next lease in.
    expect((await create({ ttl: "1h" })).status).toBe(201);
    const listed = (await call("GET", "/v1/leases", { token })).json.leases.find((l: { id: string }) => l.id === lease.id);
    expect(listed).toMatchObject({ costCents: final.costCents, priceCentsPerHour: 120 });
  });

  it("a lease crossing a month boundary charges each month its share, and is counted in the new month while live", async () => {
    const clock = useFakeClock(Date.UTC(2030, 0, 31, 23, 0));
    fakeCloud.listCents = 100;
    const lease = (await create({ ttl: "4h", idleTimeout: "4h" })).json;
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    const machineFrom = Date.UTC(2030, 0, 31, 23, 0);
    clock.advance(Date.UTC(2030, 1, 1, 1, 0) - Date.now());
    // In February it holds February's share: spent since midnight, and the rest of its TTL reserved.
    const feb = await usage("2030-02");
    expect(feb.spentCents).toBe(100);
    expect(feb.reservedCents).toBe(200);
    // So a February budget sees it: $3 committed, a $1/h 1h lease does not fit in $3.50.
    await budget({ monthly: 3.5 });
    expect((await create({ ttl: "1h" })).status).toBe(402);
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const final = await driveUntil(lease.id, token, inState("released"));
    const jan = await usage("2030-01");
    const end = Date.parse(final.endedAt);
    expect(jan.spentCents).toBe(Math.round((100 * (Date.UTC(2030, 1, 1) - machineFrom)) / HOUR));
    expect((await usage("2030-02")).spentCents).toBe(Math.round((100 * (end - Date.UTC(2030, 1, 1))) / HOUR));
    expect(jan.spentCents + (await usage("2030-02")).spentCents).toBeGreaterThanOrEqual(final.costCents - 1);
  });

  it("a parked machine accrues at its storage rate, not its running price", async () => {
    const clock = useFakeClock(Date.UTC(2030, 0, 10));
    fakeCloud.listCents = 200;
    fakeCloud.actualPrice = { centsPerHour: 200, storageCentsPerHour: 10 };
    const lease = (await create({ ttl: "24h", releaseAction: "stop" })).json;
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    clock.advance(HOUR);
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const parked = await driveUntil(lease.id, token, inState("parked"));
    const running = parked.costCents;
    expect(running).toBeGreaterThanOrEqual(200); // at least the hour it ran at 200 ¢/h
    clock.advance(10 * HOUR);
    const later = (await call("GET", `/v1/leases/${lease.id}`, { token })).json;
    expect(later.costCents - running).toBe(100); // 10 h × 10 ¢/h
    expect((await usage()).liveRateCentsPerHour).toBe(10);
  });
});
