// LeaseObject: one Durable Object per lease. A thin shell: it persists the record, runs the
// due steps (runner.ts) one at a time, keeps exactly one alarm at the earliest deadline
// (deadlines.ts) and answers the Worker's RPCs. All decisions live in the pure modules.

import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import { LEASE_STATES, type Lease, type LeaseEvent, type LeaseState } from "../contract/lease";
import { admissionInput, admit as admitInIndex, syncIndex } from "../ledger/leases";
import { rebill } from "./billing";
import { capacityStub, type TurnOutcome } from "../capacity/object";
import { capabilitiesOf, releaseActionsOf } from "../providers/registry";
import type { ReleaseAction } from "../providers/types";
import { refusal, requestedRecord, type CreateInput, type LeaseError } from "./admission";
import { indexDeadlineAt, nextAlarmAt, planStep } from "./deadlines";
import { isTerminal, type LeaseRecord } from "./record";
import { runStep, type RunnerHost } from "./runner";
import { LeaseStore } from "./store";
import * as t from "./transitions";
import { leaseView } from "./view";

/** Bounded work per alarm: anything still due re-arms the alarm for right away. */
const MAX_STEPS_PER_RUN = 12;
export const MAX_WAIT_MS = 30_000;
const STEP_FAILURE_RETRY_MS = 30_000;

export type LeaseResult<T = Lease> = { ok: true; value: T; created?: boolean } | { ok: false; error: LeaseError };

/** `null` is an admin acting on any owner's lease. */
export type Caller = string | null;

const NOT_FOUND: LeaseResult<never> = { ok: false, error: { code: "not_found", message: "no such lease", status: 404 } };
const rank = (s: LeaseState) => (s === "failed" ? LEASE_STATES.indexOf("released") : LEASE_STATES.indexOf(s));

export class LeaseObject extends DurableObject<Env> {
  private readonly store: LeaseStore;
  private running?: Promise<void>;
  private readonly waiters = new Set<() => void>();
  private lastNote?: string;
  /** The alarm time this instance last set; unknown (undefined) after a restart. */
  private armedAt?: number | null;
  private indexing: Promise<void> = Promise.resolve();
  /** The admission decision in progress: creates that join a `requested` lease await it. */
  private admitting?: Promise<LeaseResult>;
  /**
   * The client's user data, in memory only: user data never reaches storage, so a create after
   * this object restarted cannot send it and fails clearly instead (runner.ts bootScriptFor).
   */
  private userData?: string;
  /** A queued lease that ended tells its provider's line; release() awaits it. */
  private leavingLine: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LeaseStore(ctx.storage.sql);
  }

  now(): number {
    return Date.now();
  }

  private host(): RunnerHost {
    return {
      env: this.env,
      now: () => this.now(),
      load: () => this.load(),
      commit: (prev, next, note) => this.commit(prev, next, note),
      forget: () => this.forget(),
      userData: () => this.userData,
      forgetUserData: () => {
        this.userData = undefined;
      },
    };
  }

  load(): LeaseRecord | undefined {
    return this.store.load();
  }

  commit(prev: LeaseRecord, proposed: LeaseRecord, note?: string): void {
    const now = this.now();
    // What the lease costs follows its state: a change of billing rate closes the open stretch.
    const next = rebill(prev, proposed, now);
    this.store.save(next);
    // Ended while waiting in line: the line drops it now, so everyone behind moves up.
    if (prev.state === "queued" && isTerminal(next.state)) {
      this.leavingLine = capacityStub(this.env, next.request.provider)
        .dequeue(next.id)
        .catch((err: unknown) => console.error(`lease ${next.id}: leaving the capacity line failed: ${err instanceof Error ? err.message : String(err)}`));
    }
    if (prev.state !== next.state) this.store.log(now, "state", next.state, `${prev.state} → ${next.state}${note ? `: ${note}` : ""}`);
    else if (note && note !== this.lastNote) this.store.log(now, "note", next.state, note);
    // Repeated notes (a health poll every minute) are logged once, not every time.
    if (note) this.lastNote = note;
    this.armAlarm(next);
    // State changes go to the index; so does a deadline that moved earlier than the indexed
    // one (a touch shortening the idle timeout), or the sweep's backstop would come too late.
    // So does a resource id the lease just learned: for providers without markers the index is
    // the only record that the resource is ours (DESIGN.md "Ownership without markers").
    if (prev.state !== next.state || this.indexIsLate(next) || prev.resource?.id !== next.resource?.id) void this.queueIndexSync();
    for (const wake of this.waiters) wake();
  }

  forget(): void {
    this.store.clear();
    this.armedAt = null;
    void this.ctx.storage.deleteAlarm();
  }

  private armAlarm(rec: LeaseRecord): void {
    const at = nextAlarmAt(rec) ?? null;
    // Most touches do not move the earliest deadline: skip the redundant alarm write.
    if (at === this.armedAt) return;
    this.armedAt = at;
    // setAlarm/deleteAlarm are storage writes: ordered with our SQL writes and covered by
    // the output gate, so not awaiting them cannot lose them.
    if (at === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(at);
  }

  private indexIsLate(rec: LeaseRecord): boolean {
    const actual = indexDeadlineAt(rec);
    return actual !== undefined && rec.indexedDeadline != null && actual < rec.indexedDeadline;
  }

  /** Index writes are chained so they land in order; each writes the freshest state. */
  private queueIndexSync(): Promise<void> {
    this.indexing = this.indexing.then(async () => {
      const rec = this.store.load();
      if (!rec || rec.state === "requested") return;
      const deadline = indexDeadlineAt(rec) ?? null;
      try {
        const changed = await syncIndex(this.env.DB, rec, deadline ?? undefined, this.now());
        // Recorded as synced only when the row really took it; otherwise the next run retries.
        const fresh = this.store.load();
        if (fresh && changed) this.store.save({ ...fresh, indexedState: rec.state, indexedDeadline: deadline, indexedResourceId: rec.resource?.id ?? null });
      } catch (err) {
        // The next run repairs it (indexedState differs); the sweep still finds us meanwhile.
        console.error(`lease ${rec.id}: index write failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    return this.indexing;
  }

  /**
   * The index must never hold a deadline later than the real one (the sweep would miss us),
   * and one that has passed while the real one has not is stale (the sweep would poke us on
   * every run): either way, rewrite it.
   */
  private indexNeedsSync(rec: LeaseRecord): boolean {
    if (rec.indexedState !== rec.state) return true;
    if ((rec.indexedResourceId ?? null) !== (rec.resource?.id ?? null)) return true;
    const actual = indexDeadlineAt(rec) ?? null;
    const indexed = rec.indexedDeadline ?? null;
    if (actual === indexed) return false;
    if (indexed === null || actual === null) return true;
    return indexed > actual || indexed <= this.now();
  }

  /** Runs every due step, one at a time; concurrent callers share the same run. */
  reconcile(): Promise<void> {
    if (!this.running) {
      const run = this.runDueSteps();
      this.running = run;
      // Cleared only by this run, and only after it settled: a run that finished without
      // ever awaiting must not be left behind as "the current run" forever.
      void run.finally(() => {
        if (this.running === run) this.running = undefined;
      });
    }
    return this.running;
  }

  private async runDueSteps(): Promise<void> {
    // A create call deciding admission owns that step: let it finish before planning.
    if (this.admitting) await this.admitting;
    let stepFailed = false;
    for (let i = 0; i < MAX_STEPS_PER_RUN && !stepFailed; i++) {
      const rec = this.store.load();
      const step = rec && planStep(rec, this.now());
      if (!rec || !step) break;
      try {
        await runStep(this.host(), step, rec);
      } catch (err) {
        // Provider outcomes never land here (runner classifies them); this is D1 or a bug.
        console.error(`lease ${rec.id}: step ${step.kind} failed: ${err instanceof Error ? err.message : String(err)}`);
        stepFailed = true;
      }
    }
    const rec = this.store.load();
    if (rec && stepFailed) {
      // Retry later rather than in a hot loop; the record still says what is due.
      this.armedAt = undefined;
      await this.ctx.storage.setAlarm(Math.max(nextAlarmAt(rec) ?? 0, this.now() + STEP_FAILURE_RETRY_MS));
    } else if (rec) {
      this.armAlarm(rec);
      if (this.indexNeedsSync(rec)) await this.queueIndexSync();
    }
  }

  override async alarm(): Promise<void> {
    this.armedAt = undefined; // the alarm that fired is gone; re-arm whatever is next
    // The run we join may have started before this alarm fired and already be past planning
    // (in its index write): run once more so whatever is due now runs and the alarm is re-armed.
    const joined = this.running !== undefined;
    await this.reconcile();
    if (joined) {
      this.armedAt = undefined;
      await this.reconcile();
    }
  }

  private owned(caller: Caller): LeaseRecord | undefined {
    const rec = this.store.load();
    if (!rec || (caller !== null && rec.owner !== caller)) return undefined;
    return rec;
  }

  /** Applies a caller-driven transition; transition errors become 4xx results. */
  private mutate(caller: Caller, change: (rec: LeaseRecord, now: number) => LeaseRecord, note?: string): LeaseResult {
    const rec = this.owned(caller);
    if (!rec) return NOT_FOUND;
    try {
      const next = change(rec, this.now());
      if (next !== rec) this.commit(rec, next, note);
      return { ok: true, value: leaseView(next) };
    } catch (err) {
      if (err instanceof t.TransitionError) return { ok: false, error: { code: err.code, message: err.message, status: 409 } };
      throw err;
    }
  }

  // ---- RPC surface (called by the Worker with the caller already authenticated) ----

  async create(input: CreateInput): Promise<LeaseResult> {
    const existing = this.store.load();
    if (existing) {
      if (existing.owner !== input.owner || existing.requestHash !== input.requestHash) {
        return { ok: false, error: { code: "lease_conflict", message: "a lease with this id exists with a different request", status: 409 } };
      }
      // The same request (its hash covers the user data's hash): a retry may bring back what a restart lost.
      this.userData ??= input.userData;
      if (existing.state !== "requested") return { ok: true, value: leaseView(existing), created: false };
      // Joining a lease still being admitted: answer with the admission's outcome, never a 200
      // for a lease that is refused a moment later.
      const outcome = await (this.admitting ?? this.decideAdmission());
      return outcome.ok ? { ...outcome, created: false } : outcome;
    }
    const now = this.now();
    const rec = requestedRecord(input, now, loadConfig(this.env).parkRetentionMs);
    this.store.save(rec);
    this.userData = input.userData;
    this.store.log(now, "state", "requested", `requested ${input.request.provider} by ${input.owner}`);
    this.armAlarm(rec);
    return this.decideAdmission();
  }

  /** One admission decision at a time; every create that asks meanwhile shares its outcome. */
  private decideAdmission(): Promise<LeaseResult> {
    const run = this.runAdmission();
    this.admitting = run;
    void run.finally(() => {
      if (this.admitting === run) this.admitting = undefined;
    });
    return run;
  }

  private async runAdmission(): Promise<LeaseResult> {
    const rec = this.store.load();
    if (!rec) return NOT_FOUND;
    const config = loadConfig(this.env);
    let admission;
    try {
      admission = await admitInIndex(this.env.DB, rec, admissionInput(config, rec, this.now()), this.now());
    } catch (err) {
      console.error(`lease ${rec.id}: admission failed: ${err instanceof Error ? err.message : String(err)}`);
      if (rec.idFromClient === false) {
        // Nobody can retry with an id they were never told: forget the lease, so no alarm
        // admits it later and launches a machine its client cannot know about. An index row
        // the failed insert may still have written is closed by the sweep (no record behind it).
        if (this.store.load()?.state === "requested") this.forget();
        return { ok: false, error: { code: "internal_error", message: "admission is temporarily unavailable; nothing was created, retry", status: 503 } };
      }
      // The insert may or may not have landed: the alarm asks again (idempotent by id), and a
      // retried create with the same id joins whatever came of it.
      return { ok: false, error: { code: "internal_error", message: "admission is temporarily unavailable; retry with the same id", status: 503 } };
    }
    const fresh = this.store.load();
    if (!fresh) return NOT_FOUND;
    if (fresh.state !== "requested") {
      // Released by its owner while admission was in flight: make sure the index row we may
      // just have inserted says so.
      await this.queueIndexSync();
      return { ok: true, value: leaseView(fresh), created: true };
    }
    if (!admission.admitted) {
      this.forget();
      return { ok: false, error: refusal(admission) };
    }
    const admitted = t.admit(fresh, this.now());
    this.commit(fresh, admitted, "admitted");
    return { ok: true, value: leaseView(admitted), created: true };
  }

  /** The API's view, with the lease's place in line while it waits for capacity. */
  private async view(rec: LeaseRecord): Promise<Lease> {
    if (rec.state !== "queued") return leaseView(rec, this.now());
    const place = await capacityStub(this.env, rec.request.provider)
      .position(rec.id)
      .catch(() => undefined);
    return leaseView(rec, this.now(), place?.position);
  }

  /**
   * The provider's line offers this queued lease its turn: capacity for `type` appeared. The
   * lease creates now (in this call) and says how it went: a turn that found no capacity keeps
   * its place in line.
   */
  async capacityFor(type: string): Promise<{ outcome: TurnOutcome }> {
    const rec = this.store.load();
    if (!rec || rec.state !== "queued") return { outcome: "gone" };
    this.commit(rec, t.granted(rec, this.now(), type), `capacity for ${type}: its turn in line`);
    await this.reconcile();
    return { outcome: this.store.load()?.state === "queued" ? "no_capacity" : "taken" };
  }

  async get(caller: Caller, wait?: { state: LeaseState; timeoutMs: number }): Promise<LeaseResult> {
    let rec = this.owned(caller);
    if (!rec) return NOT_FOUND;
    if (wait) {
      const until = Date.now() + Math.min(wait.timeoutMs, MAX_WAIT_MS);
      // Any change of state answers too (the client shows it: "queued: 2nd in line"), and so does
      // a queued lease taking its place in line; then the client asks again.
      const phase = (r: LeaseRecord) => `${r.state}${r.queue?.registered ? ":in line" : ""}`;
      const from = phase(rec);
      while (rec && phase(rec) === from && rank(rec.state) < rank(wait.state) && !isTerminal(rec.state) && Date.now() < until) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, until - Date.now());
          this.waiters.add(done);
        });
        rec = this.owned(caller);
      }
      if (!rec) return NOT_FOUND;
    }
    return { ok: true, value: await this.view(rec) };
  }

  async ack(caller: Caller): Promise<LeaseResult> {
    return this.mutate(caller, t.acknowledge, "acknowledged by client");
  }

  /** The hot path: one storage write, no provider call, no D1, never behind a running step. */
  async touch(caller: Caller, idleTimeoutMs?: number): Promise<LeaseResult> {
    return this.mutate(caller, (rec, now) => t.touch(rec, now, idleTimeoutMs));
  }

  async release(caller: Caller, options: { action?: ReleaseAction; admin: boolean }): Promise<LeaseResult> {
    const rec = this.owned(caller);
    // Capabilities are static: check them even while the provider's credentials are absent,
    // or a "stop" recorded now could never be carried out (nor turned into a destroy) later.
    const actions = rec && releaseActionsOf(this.env, rec.request.provider);
    if (rec && options.action && !actions?.includes(options.action)) {
      const message = `${rec.request.provider} supports release actions: ${(actions ?? [rec.releaseAction]).join(", ")}`;
      return { ok: false, error: { code: "unsupported_release_action", message, status: 400 } };
    }
    const result = this.mutate(
      caller,
      (rec, now) => t.beginRelease(rec, now, { reason: options.admin ? "admin" : "released_by_user", action: options.action ?? rec.releaseAction }),
      options.admin ? "released by an admin" : "released by user",
    );
    await this.leavingLine;
    return result;
  }

  async resume(caller: Caller): Promise<LeaseResult> {
    const rec = this.owned(caller);
    const timeoutMs = rec && capabilitiesOf(this.env, rec.request.provider)?.resumeTimeoutMs;
    return this.mutate(caller, (r, now) => t.requestResume(r, now, timeoutMs), "resume requested");
  }

  /** Bench floor only (src/api/routes/bench.ts): an RPC round trip that does no work at all. */
  ping(): { pong: true } {
    return { pong: true };
  }

  async events(caller: Caller): Promise<LeaseResult<LeaseEvent[]>> {
    if (!this.owned(caller)) return NOT_FOUND;
    return { ok: true, value: this.store.events() };
  }

  /** Sweep backstop: reconcile now. A lease the object does not know is closed in the index. */
  async poke(leaseId: string): Promise<{ state: LeaseState | "missing" }> {
    await this.reconcile();
    const rec = this.store.load();
    // The sweep found the index row overdue: whatever the record believes was synced, write
    // the row again (a write that matched nothing, or landed out of order, is repaired here).
    if (rec && rec.state !== "requested") await this.queueIndexSync();
    if (!rec) {
      await this.env.DB.prepare("UPDATE leases SET live = 0, state = 'failed', end_reason = 'provider_lost', updated_at = ? WHERE id = ? AND live = 1")
        .bind(this.now(), leaseId)
        .run();
      return { state: "missing" };
    }
    return { state: rec.state };
  }

  /**
   * Orphan sweep: does this live lease claim exactly this provider resource? A lease whose
   * create outcome is still unknown claims whatever carries its own handle: it will bind or
   * release it itself by that handle, so the sweep must not race it.
   */
  async claims(resourceId: string): Promise<{ claimed: boolean }> {
    const rec = this.store.load();
    if (!rec || isTerminal(rec.state)) return { claimed: false };
    return { claimed: rec.resource?.id === resourceId || (rec.resource?.id === undefined && rec.state !== "requested") };
  }
}
