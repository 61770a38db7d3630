// The account's pacing point as the provider clients meet it: a real PacingObject behind the
// one HTTP wrapper. A refused permit sends nothing and is a rate limit, never a failure; a 429
// from the provider slows every lease of the account.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createPacer } from "../../../src/pacing/pacer";
import type { PacingPriority, RateLimits } from "../../../src/pacing/gcra";
import { HttpClient } from "../../../src/providers/http";

const pacingOn = { PROVIDER_PACING: "on", PACING: env.PACING } as unknown as Env;
let accounts = 0;

function client(account: string, limits: RateLimits, priority: PacingPriority, answer: () => Response = () => Response.json({})) {
  const sent: string[] = [];
  const pacer = createPacer({ env: pacingOn, account, limits, priority });
  const http = new HttpClient({
    baseUrl: "https://api.provider.test/v1",
    headers: { authorization: "Bearer test-key-123456" },
    fetch: async (url) => {
      sent.push(new URL(String(url)).pathname);
      return answer();
    },
    pacer,
  });
  return { http, sent };
}

describe("the pacing point", () => {
  it("lets the burst through, then refuses without sending", async () => {
    const account = `acct-${++accounts}`;
    const limits = { account: { intervalMs: 60_000, burst: 2 } };
    const { http, sent } = client(account, limits, "create");
    await http.request({ method: "GET", path: "/a" });
    await http.request({ method: "GET", path: "/b" });
    await expect(http.request({ method: "GET", path: "/c" })).rejects.toMatchObject({ kind: "rate_limited", options: { retryAfterMs: expect.any(Number) } });
    expect(sent).toEqual(["/v1/a", "/v1/b"]);
    // Another lease of the same account shares the budget: it is refused too.
    const other = client(account, limits, "poll");
    await expect(other.http.request({ method: "GET", path: "/d" })).rejects.toMatchObject({ kind: "rate_limited" });
    expect(other.sent).toEqual([]);
  });

  it("is off when PROVIDER_PACING=off, and for providers that declare no limits", () => {
    expect(createPacer({ env: { PROVIDER_PACING: "off", PACING: env.PACING } as unknown as Env, account: "x", limits: { account: { intervalMs: 1, burst: 1 } }, priority: "poll" })).toBeUndefined();
    expect(createPacer({ env: pacingOn, account: "x", limits: {}, priority: "poll" })).toBeUndefined();
  });

  it("a 429 from the provider slows the whole account", async () => {
    const account = `acct-${++accounts}`;
    const limits = { account: { intervalMs: 10_000, burst: 10 } };
    const throttled = client(account, limits, "create", () => new Response("error code: 1015", { status: 429 }));
    expect((await throttled.http.request({ method: "GET", path: "/a" })).status).toBe(429);
    // Plenty of burst left, but the provider said slow down: polls wait, nothing is sent.
    const poller = client(account, limits, "poll");
    await expect(poller.http.request({ method: "GET", path: "/b" })).rejects.toMatchObject({ kind: "rate_limited" });
    expect(poller.sent).toEqual([]);
  });
});

describe("shared reads", () => {
  /** A client whose provider answers only when the test says, one answer per request sent. */
  function gated() {
    const sent: string[] = [];
    const answers: ((response: Response) => void)[] = [];
    const http = new HttpClient({
      baseUrl: "https://api.provider.test/v1",
      headers: { authorization: "Bearer test-key-123456" },
      fetch: (url) => {
        sent.push(new URL(String(url)).pathname);
        return new Promise<Response>((resolve) => answers.push(resolve));
      },
      sharedReads: true,
    });
    const until = async (n: number) => {
      while (answers.length < n) await new Promise((r) => setTimeout(r, 5));
    };
    return { http, sent, answers, until };
  }

  it("a read already on its way is waited for, not sent again: fifty creates read the prices once", async () => {
    const { http, sent, answers, until } = gated();
    const read = () => http.request({ method: "GET", path: "/instance-types", shareMs: 60_000 });
    const first = read();
    await until(1);
    const others = Array.from({ length: 5 }, read);
    answers[0]!(Response.json({ price: 110 }));
    const all = await Promise.all([first, ...others]);
    expect(all.map((r) => r.body)).toEqual(Array(6).fill({ price: 110 }));
    expect(sent).toEqual(["/v1/instance-types"]);
  });

  it("a failed read is not shared: whoever waited for it reads for itself", async () => {
    const { http, sent, answers, until } = gated();
    const read = () => http.request({ method: "GET", path: "/instance-types", shareMs: 60_000 });
    const first = read();
    await until(1);
    const second = read();
    answers[0]!(new Response("slow down", { status: 429 }));
    expect((await first).status).toBe(429);
    await until(2);
    answers[1]!(Response.json({ price: 110 }));
    expect((await second).body).toEqual({ price: 110 });
    expect(sent).toEqual(["/v1/instance-types", "/v1/instance-types"]);
  });
});

describe("stale if error", () => {
  it("a read the provider refuses now is answered from a remembered one within staleIfErrorMs, and only then", async () => {
    const answers = [Response.json({ price: 110 }), new Response("slow down", { status: 429 }), new Response("slow down", { status: 429 })];
    const http = new HttpClient({
      baseUrl: "https://api.provider.test/v1",
      headers: { authorization: "Bearer test-key-stale-1" },
      fetch: async () => answers.shift()!,
      sharedReads: true,
    });
    expect((await http.request({ method: "GET", path: "/types", shareMs: 1 })).body).toEqual({ price: 110 });
    await new Promise((r) => setTimeout(r, 5)); // past shareMs: a fresh read is due
    const fallback = await http.request({ method: "GET", path: "/types", shareMs: 1, staleIfErrorMs: 60_000 });
    expect([fallback.status, fallback.body]).toEqual([200, { price: 110 }]);
    // Without the window the refusal is the answer.
    expect((await http.request({ method: "GET", path: "/types", shareMs: 1 })).status).toBe(429);
  });
});
