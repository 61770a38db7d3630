// Bearer-token authentication. Tokens are looked up by id and their secret compared by hash in
// constant time. A per-isolate cache keeps the heartbeat path free of D1 in steady state; a
// revocation is immediate in the isolate that made it and within TOKEN_CACHE_MS everywhere.

import type { Role } from "../contract/meta";
import { findToken, sha256Hex, TOKEN_PATTERN } from "../ledger/tokens";
import { ApiError } from "./errors";

export const TOKEN_CACHE_MS = 30_000;

export interface Principal {
  owner: string;
  role: Role;
  tokenId: string;
  /** The owner's usernames at providers with their own users (Coder), set on the token. */
  providerUsers?: Record<string, string>;
}

interface CachedToken {
  owner: string;
  role: Role;
  providerUsers?: Record<string, string>;
  secretHash: string;
  revoked: boolean;
  expiresAt: number;
}

const cache = new Map<string, CachedToken>();
const MAX_CACHE_ENTRIES = 10_000;

export function forgetToken(id: string): void {
  cache.delete(id);
}

async function timingSafeEqualHex(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const left = enc.encode(a);
  const right = enc.encode(b);
  if (left.byteLength !== right.byteLength) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}

async function lookup(db: D1Database, id: string, now: number): Promise<CachedToken | undefined> {
  const hit = cache.get(id);
  if (hit && hit.expiresAt > now) return hit;
  const row = await findToken(db, id);
  if (!row) {
    cache.delete(id);
    return undefined;
  }
  if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
  const entry = { owner: row.owner, role: row.role, providerUsers: row.providerUsers, secretHash: row.secretHash, revoked: row.revoked, expiresAt: now + TOKEN_CACHE_MS };
  cache.set(id, entry);
  return entry;
}

const unauthorized = () => new ApiError(401, "unauthorized", "missing, malformed, unknown or revoked bearer token");

export async function authenticate(env: Env, header: string | undefined): Promise<Principal> {
  const match = /^Bearer ([^\s]+)$/.exec(header ?? "");
  if (!match) throw unauthorized();
  const presented = match[1]!;
  const presentedHash = await sha256Hex(presented);
  // The bootstrap admin token is a Worker secret; compared by hash so lengths do not leak.
  if (env.CRABBOX_ADMIN_TOKEN && (await timingSafeEqualHex(presentedHash, await sha256Hex(env.CRABBOX_ADMIN_TOKEN)))) {
    return { owner: "admin", role: "admin", tokenId: "bootstrap" };
  }
  const parts = TOKEN_PATTERN.exec(presented);
  if (!parts) throw unauthorized();
  const [, id, secret] = parts as unknown as [string, string, string];
  const token = await lookup(env.DB, id, Date.now());
  if (!token || token.revoked) throw unauthorized();
  if (!(await timingSafeEqualHex(await sha256Hex(secret), token.secretHash))) throw unauthorized();
  return { owner: token.owner, role: token.role, tokenId: id, providerUsers: token.providerUsers };
}

export async function requireAuth(env: Env, header: string | undefined, level: "user" | "admin"): Promise<Principal> {
  const principal = await authenticate(env, header);
  if (level === "admin" && principal.role !== "admin") throw new ApiError(403, "forbidden", "this needs an admin token");
  return principal;
}
