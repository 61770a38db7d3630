// API tokens in D1: minted by admins, stored only as a SHA-256 of their secret, revocable.
// Token format: `cbx_<id>_<secret>`; the id locates the row, the secret is compared by hash.

import type { Role, TokenInfo } from "../contract/meta";

export const TOKEN_PATTERN = /^cbx_([a-z0-9]{16})_([A-Za-z0-9]{40})$/;

interface TokenRow {
  id: string;
  owner: string;
  role: Role;
  label: string | null;
  /** JSON {provider: username}, or NULL. */
  provider_users: string | null;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface StoredToken {
  id: string;
  owner: string;
  role: Role;
  providerUsers?: Record<string, string>;
  secretHash: string;
  revoked: boolean;
}

const providerUsersOf = (row: TokenRow): Record<string, string> | undefined =>
  row.provider_users ? (JSON.parse(row.provider_users) as Record<string, string>) : undefined;

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Uniform random string over `alphabet` (rejection sampling: no modulo bias). */
export function randomString(length: number, alphabet = ALNUM): string {
  const out: string[] = [];
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out.push(alphabet[byte % alphabet.length]!);
    }
  }
  return out.join("");
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function toInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    owner: row.owner,
    role: row.role,
    label: row.label ?? undefined,
    providerUsers: providerUsersOf(row),
    createdAt: new Date(row.created_at).toISOString(),
    revokedAt: row.revoked_at === null ? undefined : new Date(row.revoked_at).toISOString(),
  };
}

export async function createToken(db: D1Database, input: { owner: string; role: Role; label?: string; providerUsers?: Record<string, string> }, now: number) {
  const id = randomString(16, "abcdefghijklmnopqrstuvwxyz0123456789");
  const secret = randomString(40);
  const providerUsers = input.providerUsers && Object.keys(input.providerUsers).length ? JSON.stringify(input.providerUsers) : null;
  const row: TokenRow = { id, owner: input.owner, role: input.role, label: input.label ?? null, provider_users: providerUsers, secret_hash: await sha256Hex(secret), created_at: now, revoked_at: null };
  await db
    .prepare("INSERT INTO tokens (id, owner, role, label, provider_users, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(row.id, row.owner, row.role, row.label, row.provider_users, row.secret_hash, row.created_at)
    .run();
  return { token: `cbx_${id}_${secret}`, info: toInfo(row) };
}

export async function findToken(db: D1Database, id: string): Promise<StoredToken | undefined> {
  const row = await db.prepare("SELECT * FROM tokens WHERE id = ?").bind(id).first<TokenRow>();
  return row ? { id: row.id, owner: row.owner, role: row.role, providerUsers: providerUsersOf(row), secretHash: row.secret_hash, revoked: row.revoked_at !== null } : undefined;
}

export async function listTokens(db: D1Database): Promise<TokenInfo[]> {
  const { results } = await db.prepare("SELECT * FROM tokens ORDER BY created_at DESC LIMIT 1000").all<TokenRow>();
  return results.map(toInfo);
}

export async function revokeToken(db: D1Database, id: string, now: number): Promise<TokenInfo | undefined> {
  await db.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(now, id).run();
  const row = await db.prepare("SELECT * FROM tokens WHERE id = ?").bind(id).first<TokenRow>();
  return row ? toInfo(row) : undefined;
}
