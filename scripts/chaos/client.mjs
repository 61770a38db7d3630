// The chaos suite's API client: every call the coordinator should survive is retried through
// connection errors (a coordinator killed mid-run answers nothing until it is back), and every
// HTTP 5xx the coordinator answers is counted against the provider the call was about.

const RETRY_FOR_MS = 120_000;

/** @param {{url: string, serverErrors: Map<string, number>}} options */
export function chaosClient(options) {
  /**
   * @param {string} token @param {string} method @param {string} path
   * @param {{body?: unknown, provider?: string, retry?: boolean}} [init]
   * @returns {Promise<{status: number, json: any}>}
   */
  async function call(token, method, path, init = {}) {
    const deadline = Date.now() + RETRY_FOR_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${options.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: AbortSignal.timeout(40_000),
        });
        const json = await res.json().catch(() => undefined);
        if (res.status >= 500) {
          const key = init.provider ?? "-";
          options.serverErrors.set(key, (options.serverErrors.get(key) ?? 0) + 1);
          options.serverErrorSamples?.push(`${method} ${path} → ${res.status} ${JSON.stringify(json?.error ?? json).slice(0, 200)}`);
        }
        return { status: res.status, json };
      } catch (err) {
        // No answer (refused, reset, timed out): the coordinator may be restarting. Idempotent
        // calls (every call here: creates carry a client-minted id) are sent again.
        if (init.retry === false || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * 2 ** attempt)));
      }
    }
  }
  return { call };
}

/** A client-minted lease id: 16 of [a-z0-9]. */
export function mintId(random) {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let id = "";
  for (let i = 0; i < 16; i++) id += alphabet[Math.floor(random() * alphabet.length)];
  return id;
}

/** A small seeded PRNG (mulberry32), so a run can be repeated with --seed. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
