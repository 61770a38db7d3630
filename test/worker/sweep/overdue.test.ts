// Sweep, part one, through the real cron handler: a lease whose alarm was lost is poked by the
// overdue scan, reconciles, re-arms its alarm and ends with nothing left in the cloud.
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { OVERDUE_SLACK_MS } from "../../../src/sweep/overdue";
import { ADMIN_TOKEN, alarmAt, call, leaseStub, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState, leaseState } from "../../support/drive";
import { fakeCloud } from "../../support/fake-cloud";
import { clearSweepState } from "./helpers";

beforeEach(async () => {
  fakeCloud.reset();
  useFakeClock();
  await clearSweepState();
});
afterEach(() => vi.useRealTimers());

async function cron(): Promise<void> {
  const controller = createScheduledController({ scheduledTime: new Date(Date.now()), cron: "*/5 * * * *" });
  const ctx = createExecutionContext();
  // Called as the runtime calls it, whatever parameters the handler chooses to declare.
  await (worker as ExportedHandler<Env>).scheduled!(controller, env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("overdue pokes", () => {
  it("a lease whose alarm was lost past its ack deadline is poked by the cron and ends released", async () => {
    const token = await mintToken("forgotten");
    const created = await call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), ackDeadline: "2m" } });
    const ready = await driveUntil(created.json.id, token, inState("ready"));
    await runInDurableObject(leaseStub(ready.id), (_, state) => state.storage.deleteAlarm());
    expect(await alarmAt(ready.id)).toBeNull();

    // Before its deadline a poke (if any) finds nothing due: the lease is not ended early.
    vi.setSystemTime(Date.parse(ready.deadlines.ack) - 1_000);
    await cron();
    expect((await leaseState(ready.id, token)).state).toBe("ready");

    vi.setSystemTime(Date.parse(ready.deadlines.ack) + OVERDUE_SLACK_MS + 1_000);
    await cron();
    const poked = await leaseState(ready.id, token);
    expect(poked.endReason).toBe("ack_timeout");
    expect(poked.state).toBe("releasing"); // the teardown's confirmation is due a little later...
    expect(await alarmAt(ready.id)).not.toBeNull(); // ...on the re-armed alarm chain
    const final = await driveUntil(ready.id, token, inState("released"), 10 * 60_000);
    expect(final.endReason).toBe("ack_timeout");
    expect(fakeCloud.live()).toEqual([]);

    // The same cron invocation ran the orphan sweep and recorded it; the lease's machine was
    // claimed by its live lease then, so the orphan sweep had nothing to do with it.
    const runs = (await call("GET", "/v1/admin/sweeps", { token: ADMIN_TOKEN })).json.sweeps;
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ trigger: "cron", dryRun: false });
    expect(runs[0].providers.find((p: any) => p.provider === "fakecloud")).toMatchObject({ complete: true, reclaimed: 0 });
  });
});
