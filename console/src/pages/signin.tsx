// Sign in with an API token: it is checked (GET /v1/whoami) before it is kept.
import { useState } from "preact/hooks";
import type { Whoami } from "../../../src/contract/meta";
import { api } from "../api";
import { keepToken, me, signInError, signOut } from "../state";

export async function resume(): Promise<void> {
  try {
    me.value = await api<Whoami>("/v1/whoami");
  } catch (err) {
    signOut(`That token was not accepted: ${(err as Error).message}`);
  }
}

export function SignIn() {
  const [value, setValue] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    signInError.value = null;
    keepToken(value.trim());
    await resume();
  };
  return (
    <main class="signin card">
      <h1>crabbox console</h1>
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input id="token" type="password" autocomplete="off" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} placeholder="cbx_…" />
        <button type="submit">Sign in</button>
      </form>
      {signInError.value && <p class="error" role="alert">{signInError.value}</p>}
      <p class="muted">The token stays in this tab only (sessionStorage). `crabbox login` uses the same tokens.</p>
    </main>
  );
}
