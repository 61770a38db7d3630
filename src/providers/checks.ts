// The small vocabulary every provider's doctor speaks: run a read-only call and turn any
// failure into a check (doctor never throws), and build ok / failed checks.

import { ProviderError, type DoctorCheck } from "./types";

export type Attempt<T> = { ok: true; value: T } | { ok: false; error: ProviderError };

export async function attempt<T>(call: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    // ProviderError messages are already redacted; anything else is reported by its name only.
    return { ok: false, error: err instanceof ProviderError ? err : new ProviderError("definite", `unexpected ${err instanceof Error ? err.name : "error"}`) };
  }
}

export function ok(name: string, detail: string): DoctorCheck {
  return { name, status: "ok", detail };
}

export function failed(name: string, error: ProviderError, hint: string, cls = errorClass(error)): DoctorCheck {
  return { name, status: "fail", class: cls, detail: error.message, hint };
}

function errorClass(error: ProviderError): string {
  return error.kind === "ambiguous" ? "network" : error.kind;
}
