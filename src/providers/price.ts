// Operator-configured prices, for providers whose API gives none (fal, Coder, Sealos): whole
// US cents per hour in a var such as SEALOS_PRICE_CENTS_PER_HOUR. Unset means "no price".

/** The var's cents, undefined when unset; a malformed value becomes a problem (doctor shows it). */
export function readCents(vars: Record<string, string | undefined>, name: string, problems: string[]): number | undefined {
  const raw = vars[name]?.trim();
  if (!raw) return undefined;
  const cents = Number(raw);
  if (!Number.isInteger(cents) || cents < 0) {
    problems.push(`${name} must be a whole number of US cents per hour`);
    return undefined;
  }
  return cents;
}
