// Small text helpers shared by the pages.
export const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** "3m", "2h 5m", "4d": a span a person reads at a glance. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${m % 60}m` : `${Math.floor(h / 24)}d`;
}

export const age = (iso: string) => span(Date.now() - Date.parse(iso));
export const left = (iso: string | undefined) => (iso ? span(Date.parse(iso) - Date.now()) : "-");
