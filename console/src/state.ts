// The console's shared state, as signals (@preact/signals): the token (kept in sessionStorage:
// never in a URL, a cookie or a log), who it belongs to, and the current page (the URL hash).
import { signal } from "@preact/signals";
import type { Whoami } from "../../src/contract/meta";

const KEY = "crabbox.token";

export const token = signal<string | null>(sessionStorage.getItem(KEY));
export const me = signal<Whoami | null>(null);
export const signInError = signal<string | null>(null);
export const route = signal<string>(location.hash || "#/leases");

addEventListener("hashchange", () => {
  route.value = location.hash || "#/leases";
});

export function keepToken(value: string): void {
  sessionStorage.setItem(KEY, value);
  token.value = value;
}

export function signOut(reason?: string): void {
  sessionStorage.removeItem(KEY);
  token.value = null;
  me.value = null;
  signInError.value = reason ?? null;
}
