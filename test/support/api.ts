// Helpers for workerd tests: call the Worker through its real fetch handler, mint tokens,
// drive a lease's alarm explicitly under a fake clock.
import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { vi } from "vitest";

export const ADMIN_TOKEN = "test-admin-token-0123456789";
/** Tests run in 2030 so alarms armed at fake times never fire on their own: we fire them. */
export const T0 = Date.UTC(2030, 0, 1);

export function useFakeClock(start = T0): { advance(ms: number): number; now(): number } {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(start);
  return {
    advance(ms: number) {
      vi.setSystemTime(Date.now() + ms);
      return Date.now();
    },
    now: () => Date.now(),
  };
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export async function call(method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await exports.default.fetch(new Request(`https://crabbox.test${path}`, { method, headers, body }));
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, headers: response.headers };
}

export async function mintToken(owner: string, role: "user" | "admin" = "user"): Promise<string> {
  const res = await call("POST", "/v1/admin/tokens", { token: ADMIN_TOKEN, body: { owner, role } });
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${res.text}`);
  return res.json.token as string;
}

/** A fresh OpenSSH ed25519 public key line (WebCrypto: no node:crypto in workerd). */
export async function sshPublicKey(): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const name = new TextEncoder().encode("ssh-ed25519");
  const blob = new Uint8Array([...u32(name.length), ...name, ...u32(raw.length), ...raw]);
  return `ssh-ed25519 ${btoa(String.fromCharCode(...blob))} test@crabbox`;
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

export function leaseStub(id: string) {
  return env.LEASES.get(env.LEASES.idFromName(id));
}

/** Fires the lease's alarm until nothing more is due now (bounded). */
export async function settle(id: string, rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (!(await runDurableObjectAlarm(leaseStub(id)))) return;
    const at = await alarmAt(id);
    if (at === null || at > Date.now()) return;
  }
}

export async function alarmAt(id: string): Promise<number | null> {
  const { runInDurableObject } = await import("cloudflare:test");
  return runInDurableObject(leaseStub(id), (_instance, state) => state.storage.getAlarm());
}
