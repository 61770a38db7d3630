// Drives a lease through time deterministically: jump the fake clock to the lease's alarm and
// fire it, until a condition holds. No sleeps: time moves only when the test moves it.
import { runDurableObjectAlarm } from "cloudflare:test";
import { vi } from "vitest";
import { alarmAt, call, leaseStub } from "./api";

export async function leaseState(id: string, token: string): Promise<any> {
  const res = await call("GET", `/v1/leases/${id}`, { token });
  return res.json;
}

/**
 * Repeatedly moves the clock to the next alarm (never backwards, never past `limitMs` from
 * now) and fires it, until `done(lease)` holds. Returns the lease.
 */
export async function driveUntil(id: string, token: string, done: (lease: any) => boolean, limitMs = 6 * 3_600_000): Promise<any> {
  const stopAt = Date.now() + limitMs;
  for (let i = 0; i < 200; i++) {
    const lease = await leaseState(id, token);
    if (done(lease)) return lease;
    const at = await alarmAt(id);
    if (at === null) throw new Error(`lease ${id} has no alarm and is ${lease?.state}`);
    if (at > stopAt) throw new Error(`lease ${id} next alarm is past the limit (state ${lease?.state})`);
    if (at > Date.now()) vi.setSystemTime(at);
    await runDurableObjectAlarm(leaseStub(id));
  }
  throw new Error(`lease ${id} did not reach the condition`);
}

export const inState = (...states: string[]) => (lease: any) => states.includes(lease?.state);
