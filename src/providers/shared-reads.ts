// Recent answers of whole-account listings, shared by every lease in this isolate: when fifty
// leases recover or release at once they read one listing instead of fifty. Only completed
// answers are shared (plain data: a promise must not cross Workers request contexts), and only
// for as long as the caller tolerates (`HttpRequest.shareMs`), so a decision never rests on a
// listing older than that. While the same read is already on its way, a second caller waits a
// little for its answer (polling this map, never awaiting the other request's promise) instead
// of spending another of the account's permits on it.

interface Answer {
  at: number;
  status: number;
  text: string;
  headers: [string, string][];
}

const MAX_ENTRIES = 64;
const answers = new Map<string, Answer>();

/** FNV-1a: the account's credential identifies the cache key without being kept in it. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16);
}

const transports = new WeakMap<object, number>();
let transportCount = 0;

/** Same transport (the network, or one test's scripted fetch), same URL, same credential. */
export function sharedKey(transport: object, url: string, credential: string): string {
  if (!transports.has(transport)) transports.set(transport, ++transportCount);
  return `${transports.get(transport)} ${fingerprint(credential)} ${url}`;
}

export function recentAnswer(key: string, maxAgeMs: number, now = Date.now()): Answer | undefined {
  const hit = answers.get(key);
  return hit && now - hit.at <= maxAgeMs ? hit : undefined;
}

export function rememberAnswer(key: string, answer: Omit<Answer, "at">, now = Date.now()): void {
  answers.delete(key);
  answers.set(key, { ...answer, at: now });
  // Oldest first in a Map: evict from the front.
  while (answers.size > MAX_ENTRIES) answers.delete(answers.keys().next().value!);
}

/** Reads of each key on their way in this isolate (a count, not their promises). */
const inFlight = new Map<string, number>();
const PEER_POLL_MS = 25;

export function beginRead(key: string): void {
  inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
}

export function endRead(key: string): void {
  const left = (inFlight.get(key) ?? 1) - 1;
  if (left > 0) inFlight.set(key, left);
  else inFlight.delete(key);
}

/**
 * A recent answer, or, while the same read is on its way, the answer it brings within
 * `maxWaitMs`. Undefined when there is none to wait for, it failed (failures are not shared) or
 * it took too long: then the caller reads for itself.
 */
export async function peerAnswer(key: string, maxAgeMs: number, maxWaitMs: number): Promise<Answer | undefined> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const hit = recentAnswer(key, maxAgeMs);
    if (hit || !inFlight.has(key) || Date.now() >= deadline) return hit;
    await new Promise((resolve) => setTimeout(resolve, PEER_POLL_MS));
  }
}
