// Executes one planned step of a lease: the only place provider calls happen. Every call is
// bracketed the same way: persist the intent, await the provider, RE-LOAD the record (other
// events ran while we awaited), apply the pure transition, commit.

import { composeBootScript } from "../boot/compose";
import { tailscaleSettings } from "../boot/settings";
import { loadConfig } from "../config";
import { admissionInput, admit as admitInIndex, recordUnresolvedCreate } from "../ledger/leases";
import { redact } from "../providers/http";
import { configuredAdapter, secretValues } from "../providers/registry";
import { ProviderError, type LeaseSpec, type ProviderAdapter, type ResourceRef } from "../providers/types";
import type { PacingPriority } from "../pacing/gcra";
import type { Step } from "./deadlines";
import { sshBannerAnswers } from "./probe";
import { currentType, type LeaseRecord } from "./record";
import * as t from "./transitions";
import { capacityStub } from "../capacity/object";

export interface RunnerHost {
  env: Env;
  now(): number;
  load(): LeaseRecord | undefined;
  /** Persists `next`, logs the change, re-arms the alarm, wakes long-polls. */
  commit(prev: LeaseRecord, next: LeaseRecord, note?: string): void;
  /** Forgets a lease that was never admitted. */
  forget(): void;
  /** The client's user data, held in memory until the create (never stored). */
  userData(): string | undefined;
  forgetUserData(): void;
}

export function leaseSpec(rec: LeaseRecord, deploymentId: string): LeaseSpec {
  const { region, image, sshPublicKey, ttlMs, maxPricePerHour, providerUser, parameters } = rec.request;
  // Of several acceptable types, the one this create tries (or made).
  return { leaseId: rec.id, deploymentId, owner: rec.owner, type: currentType(rec), region, image, sshPublicKey, ttlMs, maxPricePerHour, providerUser, parameters };
}

export function failureOf(err: unknown, env: Env): t.Failure {
  if (err instanceof ProviderError) {
    return { kind: err.kind, message: redact(err.message, secretValues(env)), retryAfterMs: err.options.retryAfterMs };
  }
  // A bug or an unparseable provider answer: the call may have taken effect, so treat it as
  // ambiguous (recover, retry) rather than as a failure that would skip cleanup.
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: "ambiguous", message: redact(`unexpected error: ${detail}`, secretValues(env)).slice(0, 500) };
}

class ProviderUnavailable extends ProviderError {
  constructor(provider: string) {
    super("ambiguous", `provider ${provider} is not configured on this coordinator`);
  }
}

/** Releases stop billing and get the account's first permits; creates next; polls last. */
const PRIORITY: Record<Step["kind"], PacingPriority> = {
  admit: "create",
  expire: "release",
  create: "create",
  recover: "create",
  resume: "create",
  release: "release",
  inspect: "poll",
  enqueue: "poll",
};

function adapterFor(host: RunnerHost, rec: LeaseRecord, step: Step["kind"]): ProviderAdapter {
  const adapter = configuredAdapter(host.env, rec.request.provider, PRIORITY[step]);
  if (!adapter) throw new ProviderUnavailable(rec.request.provider);
  return adapter;
}

/** Runs `call`, then applies `ok`/`failed` to the freshest record. */
async function bracket<T>(
  host: RunnerHost,
  call: () => Promise<T>,
  ok: (rec: LeaseRecord, now: number, value: T) => LeaseRecord,
  failed: (rec: LeaseRecord, now: number, failure: t.Failure) => LeaseRecord,
  describe: (value: T | t.Failure, isError: boolean) => string,
): Promise<void> {
  let next: (rec: LeaseRecord, now: number) => LeaseRecord;
  let note: string;
  try {
    const value = await call();
    next = (rec, now) => ok(rec, now, value);
    note = describe(value, false);
  } catch (err) {
    const failure = failureOf(err, host.env);
    next = (rec, now) => failed(rec, now, failure);
    note = describe(failure, true);
  }
  const fresh = host.load();
  if (fresh) host.commit(fresh, next(fresh, host.now()), note);
}

const errorNote = (what: string) => (v: unknown, isError: boolean) =>
  isError ? `${what} failed (${(v as t.Failure).kind}): ${(v as t.Failure).message}` : `${what} ok`;

export async function runStep(host: RunnerHost, step: Step, rec: LeaseRecord): Promise<void> {
  const now = host.now();
  const config = loadConfig(host.env);
  const spec = leaseSpec(rec, config.deploymentId);
  switch (step.kind) {
    case "admit": {
      // Only a create call that died mid-admission leaves this to the alarm. A Worker-minted
      // id never reached its client, so nobody could use (or release) what we would launch.
      if (rec.idFromClient === false) {
        host.forget();
        return;
      }
      const result = await admitInIndex(host.env.DB, rec, admissionInput(config, rec, now), now);
      const fresh = host.load();
      if (!fresh) return;
      // Released by its owner while we asked: the reconcile tail rewrites the index row we may
      // just have inserted, since a lease released before admission was never indexed.
      if (fresh.state !== "requested") return;
      if (result.admitted) host.commit(fresh, t.admit(fresh, host.now()), "admitted");
      else host.forget();
      return;
    }
    case "expire":
      host.commit(rec, t.expire(rec, now, step.reason), `deadline passed: ${step.reason}`);
      return;
    case "enqueue": {
      const types = rec.request.types ?? (rec.request.type ? [rec.request.type] : []);
      const { since, until } = rec.queue!;
      await capacityStub(host.env, rec.request.provider).enqueue({ provider: rec.request.provider, leaseId: rec.id, types, region: rec.request.region, since, until });
      const fresh = host.load();
      if (fresh) host.commit(fresh, t.queued(fresh), `no capacity for ${types.join(", ") || "the default type"}: waiting in line until ${new Date(until).toISOString()}`);
      return;
    }
    case "create": {
      const started = t.startAttempt(rec, now);
      host.commit(rec, started, `create attempt ${started.op!.attempts}`);
      const attempt = { handle: rec.handle, number: started.op!.attempts, firstAt: started.op!.firstAt };
      await bracket(
        host,
        async () => {
          const adapter = adapterFor(host, rec, "create");
          const ref = await adapter.create({ ...spec, bootScript: bootScriptFor(host, rec, adapter) }, attempt);
          host.forgetUserData(); // the machine has it now; nothing else needs it
          return ref;
        },
        t.resourceFound,
        t.createFailed,
        (v, isError) => (isError ? errorNote("create")(v, true) : `created resource ${(v as { id?: string }).id ?? "(id pending)"}`),
      );
      return;
    }
    case "recover":
      await bracket(
        host,
        async () => {
          const result = await adapterFor(host, rec, "recover").recover(spec, rec.handle);
          // Recorded before the lease may go terminal on it: an operator must find it later.
          if (result.kind === "unresolvable") await recordUnresolvedCreate(host.env.DB, rec, result.detail, host.now());
          return result;
        },
        t.recovered,
        t.recoverFailed,
        (v, isError) => (isError ? errorNote("recovery lookup")(v, true) : `recovery by handle: ${(v as { kind: string }).kind}`),
      );
      return;
    case "release": {
      if (await learnLostResource(host, rec, spec, now)) return;
      const started = t.startAttempt(rec, now);
      const action = rec.op!.action ?? "destroy";
      // Logged once: a release that waits for termination polls many times, and the event
      // log records changes (outcomes, failures), not polls.
      host.commit(rec, started, started.op!.attempts === 1 ? `release (${action}) started` : undefined);
      const ref = rec.resource ?? { handle: rec.handle };
      await bracket(host, () => adapterFor(host, rec, "release").release(ref, action, spec), t.releaseStepped, t.releaseFailed, (v, isError) =>
        isError ? errorNote("release")(v, true) : (v as { done: boolean }).done ? "release confirmed by provider" : "release in progress",
      );
      return;
    }
    case "resume": {
      const started = t.startAttempt(rec, now);
      host.commit(rec, started, `resume attempt ${started.op!.attempts}`);
      await bracket(
        host,
        async () => {
          const adapter = adapterFor(host, rec, "resume");
          if (!adapter.resume || !rec.resource) throw new ProviderError("unsupported", "this provider cannot resume");
          await adapter.resume(rec.resource, spec);
        },
        t.resumed,
        t.resumeFailed,
        errorNote("resume"),
      );
      return;
    }
    case "inspect": {
      if (!rec.resource) {
        host.commit(rec, { ...rec, pollAt: undefined }, "nothing to inspect");
        return;
      }
      const ref = rec.resource;
      await bracket(
        host,
        async () => {
          const adapter = adapterFor(host, rec, "inspect");
          const status = await adapter.inspect(ref, spec);
          if (status.phase !== "running") return { status, routeReady: false };
          // Once ready, the provider's status poll watches the lease: no SSH connection every
          // minute (noise, and a login-failure ban risk). The client's ack was the final proof.
          if (rec.state !== "provisioning") return { status, routeReady: true };
          // A gateway answers a banner before the machine behind it exists: only a direct
          // route's banner means the machine's sshd is up (DESIGN.md "Readiness through gateways").
          const caps = adapter.capabilities;
          if (caps.readiness === "adapter" || (status.route ?? caps.route) !== "direct") return { status, routeReady: status.ready };
          const ep = status.endpoint;
          return { status, routeReady: ep.kind === "ssh" && (await sshBannerAnswers(ep.host, ep.port)) };
        },
        (fresh, at, v) => t.inspected(fresh, at, v.status, v.routeReady),
        t.inspectFailed,
        (v, isError) => (isError ? errorNote("inspect")(v, true) : describeInspect(v as { status: { phase: string; detail: string }; routeReady: boolean })),
      );
      return;
    }
  }
}

/**
 * A provider whose resources can only be found by replaying the idempotent create (fal: no name,
 * label or tag) leaves nothing to look up by handle: a release decided while such a create's
 * answer is unknown replays it (same key, inside its window) to learn what to remove. Found by
 * the chaos suite: without this, a lost create's instance outlived its released lease.
 */
async function learnLostResource(host: RunnerHost, rec: LeaseRecord, spec: LeaseSpec, now: number): Promise<boolean> {
  const settleUntil = rec.op?.settleUntil;
  if (rec.resource?.id || !rec.createPolicy?.idempotent || settleUntil === undefined || now >= settleUntil) return false;
  let found: ResourceRef | undefined;
  try {
    // The first send was at or after this: an earlier firstAt only makes the adapter stop replaying sooner.
    const firstAt = rec.unsettled?.since ?? rec.provisionStartedAt ?? rec.createdAt;
    found = await adapterFor(host, rec, "create").create(spec, { handle: rec.handle, number: 0, firstAt });
  } catch {
    return false; // nothing learned: the release goes on, and keeps looking until the window closes
  }
  const fresh = host.load();
  if (fresh) host.commit(fresh, t.resourceFound(fresh, host.now(), found), `learned resource ${found.id ?? "(id pending)"} by replaying the create whose answer was lost`);
  return true;
}

function describeInspect(v: { status: { phase: string; detail: string }; routeReady: boolean }): string {
  const route = v.status.phase === "running" ? (v.routeReady ? ", route answers" : ", route not answering yet") : "";
  return `provider reports ${v.status.phase} (${v.status.detail})${route}`;
}

/**
 * The boot script for the create, composed in memory from the client's user data and the
 * operator's Tailscale key. A lease whose user data was lost with a restart fails (definitely:
 * nothing was created) rather than booting a machine without what the client asked it to run.
 */
function bootScriptFor(host: RunnerHost, rec: LeaseRecord, adapter: ProviderAdapter): string | undefined {
  const { userData: recorded, tailscale } = rec.request;
  if (!recorded && !tailscale) return undefined;
  const userData = host.userData();
  if (recorded && userData === undefined) {
    throw new ProviderError("definite", "the lease's user data is gone (the coordinator restarted before the machine was created, and user data is never stored): create the lease again");
  }
  const { authKey, tags } = tailscaleSettings(host.env);
  if (tailscale && !authKey) throw new ProviderError("definite", "TAILSCALE_AUTHKEY is no longer configured on this coordinator");
  return composeBootScript({
    userData,
    tailscale: tailscale ? { authKey: authKey!, hostname: rec.slug, tags } : undefined,
    cloudInit: adapter.capabilities.bootHook?.cloudInit ?? false,
  });
}