// Bad input is the client's fault: every malformed request gets a 4xx with a stable code,
// never a 5xx, and never leaves a lease (or a provider call) behind.
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, mintToken, sshPublicKey } from "../../support/api";
import { fakeCloud } from "../../support/fake-cloud";

let token: string;
let key: string;
beforeAll(async () => {
  token = await mintToken("mallory");
  key = await sshPublicKey();
});

interface Case {
  name: string;
  method?: string;
  path?: string;
  body?: (key: string) => unknown;
  raw?: string;
  headers?: Record<string, string>;
  auth?: "none" | "user" | "admin" | "garbage";
  status: number;
  code: string;
}

const lease = (extra: Record<string, unknown>) => (k: string) => ({ provider: "fakecloud", sshPublicKey: k, ...extra });

const CASES: Case[] = [
  { name: "no token", auth: "none", body: lease({}), status: 401, code: "unauthorized" },
  { name: "garbage token", auth: "garbage", body: lease({}), status: 401, code: "unauthorized" },
  { name: "user on an admin route", path: "/v1/admin/tokens", body: () => ({ owner: "x" }), status: 403, code: "forbidden" },
  { name: "body is not JSON", raw: "{not json", status: 400, code: "invalid_json" },
  { name: "body is invalid UTF-8", raw: "\u00ff\u00fe", headers: { "content-type": "application/json" }, status: 400, code: "invalid_json" },
  { name: "wrong content type", raw: "provider=fakecloud", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415, code: "unsupported_media_type" },
  { name: "oversized body", body: (k) => ({ provider: "fakecloud", sshPublicKey: k, image: "x".repeat(70_000) }), status: 413, code: "body_too_large" },
  { name: "body is an array", body: () => [1, 2], status: 400, code: "invalid_request" },
  { name: "body is a string", body: () => "lease", status: 400, code: "invalid_request" },
  { name: "empty object", body: () => ({}), status: 400, code: "invalid_request" },
  { name: "missing provider", body: (k) => ({ sshPublicKey: k }), status: 400, code: "invalid_request" },
  { name: "missing ssh key", body: () => ({ provider: "fakecloud" }), status: 400, code: "invalid_request" },
  { name: "unknown field", body: lease({ gpus: 8 }), status: 400, code: "invalid_request" },
  { name: "provider is a number", body: lease({ provider: 7 }), status: 400, code: "invalid_request" },
  { name: "provider has bad characters", body: lease({ provider: "Lambda Cloud!" }), status: 400, code: "invalid_request" },
  { name: "unknown provider", body: lease({ provider: "aws" }), status: 400, code: "unknown_provider" },
  { name: "ssh key is not a key", body: lease({ sshPublicKey: "hello" }), status: 400, code: "invalid_request" },
  { name: "ssh key is a private key", body: lease({ sshPublicKey: "-----BEGIN OPENSSH PRIVATE KEY-----" }), status: 400, code: "invalid_request" },
  { name: "ttl without unit", body: lease({ ttl: "7200" }), status: 400, code: "invalid_request" },
  { name: "ttl negative", body: lease({ ttl: "-1h" }), status: 400, code: "invalid_request" },
  { name: "ttl as a number", body: lease({ ttl: 7200 }), status: 400, code: "invalid_request" },
  { name: "ttl above the maximum", body: lease({ ttl: "25h" }), status: 400, code: "duration_out_of_range" },
  { name: "ttl zero", body: lease({ ttl: "0s" }), status: 400, code: "invalid_request" },
  { name: "idle timeout above the maximum", body: lease({ idleTimeout: "2d" }), status: 400, code: "duration_out_of_range" },
  { name: "ack deadline above the maximum", body: lease({ ackDeadline: "1h" }), status: 400, code: "duration_out_of_range" },
  { name: "duration with two units", body: lease({ ttl: "1h30m" }), status: 400, code: "invalid_request" },
  { name: "unknown release action", body: lease({ releaseAction: "abandon" }), status: 400, code: "invalid_request" },
  { name: "lease id too short", body: lease({ id: "abc" }), status: 400, code: "invalid_request" },
  { name: "lease id with capitals", body: lease({ id: "ABCDEFGHIJKLMNOP" }), status: 400, code: "invalid_request" },
  { name: "type with spaces", body: lease({ type: "gpu 1x" }), status: 400, code: "invalid_request" },
  { name: "region too long", body: lease({ region: "r".repeat(65) }), status: 400, code: "invalid_request" },
  { name: "image empty", body: lease({ image: "" }), status: 400, code: "invalid_request" },
  { name: "list with a bad state filter", method: "GET", path: "/v1/leases?state=exploded", status: 400, code: "invalid_request" },
  { name: "list with a bad limit", method: "GET", path: "/v1/leases?limit=1000", status: 400, code: "invalid_request" },
  { name: "list with an unknown query parameter", method: "GET", path: "/v1/leases?sort=asc", status: 400, code: "invalid_request" },
  { name: "list with a forged cursor", method: "GET", path: "/v1/leases?cursor=bm9wZQ", status: 400, code: "invalid_request" },
  { name: "get with a bad wait state", method: "GET", path: "/v1/leases/abcdefghijkl0000?wait=soon", status: 400, code: "invalid_request" },
  { name: "get with a too long wait", method: "GET", path: "/v1/leases/abcdefghijkl0000?wait=ready&timeout=10m", status: 400, code: "duration_out_of_range" },
  { name: "touch with a bad idle timeout", path: "/v1/leases/abcdefghijkl0000/touch", body: () => ({ idleTimeout: "forever" }), status: 400, code: "invalid_request" },
  { name: "release with an unknown action", path: "/v1/leases/abcdefghijkl0000/release", body: () => ({ action: "explode" }), status: 400, code: "invalid_request" },
  { name: "ack with a body field", path: "/v1/leases/abcdefghijkl0000/ack", body: () => ({ force: true }), status: 400, code: "invalid_request" },
  { name: "a lease that does not exist", method: "GET", path: "/v1/leases/abcdefghijkl0000", status: 404, code: "not_found" },
  { name: "a ref that is neither id nor slug", method: "GET", path: "/v1/leases/..%2F..%2Fetc", status: 404, code: "not_found" },
  { name: "unknown route", method: "GET", path: "/v1/nothing-here", status: 404, code: "route_not_found" },
  { name: "wrong method", method: "PUT", path: "/v1/leases", body: lease({}), status: 405, code: "method_not_allowed" },
  { name: "token for an unknown owner format", path: "/v1/admin/tokens", auth: "admin", body: () => ({ owner: "Has Spaces" }), status: 400, code: "invalid_request" },
  { name: "user token for the reserved admin owner", path: "/v1/admin/tokens", auth: "admin", body: () => ({ owner: "admin" }), status: 400, code: "invalid_request" },
  { name: "token with an unknown role", path: "/v1/admin/tokens", auth: "admin", body: () => ({ owner: "x", role: "root" }), status: 400, code: "invalid_request" },
  { name: "revoke a token that does not exist", method: "DELETE", path: "/v1/admin/tokens/0000000000000000", auth: "admin", status: 404, code: "not_found" },
  { name: "doctor of an unknown provider", method: "GET", path: "/v1/providers/nope/doctor", status: 400, code: "unknown_provider" },
  { name: "a type the provider's catalog does not know", body: lease({ type: "no-such-type" }), status: 400, code: "invalid_for_provider" },
  { name: "a key longer than Lambda takes", body: () => ({ provider: "lambda", sshPublicKey: `ssh-rsa ${"A".repeat(5_000)}` }), status: 400, code: "invalid_for_provider" },
  { name: "a Lambda region that is no region name", body: (k) => ({ provider: "lambda", sshPublicKey: k, region: "mars_base" }), status: 400, code: "invalid_for_provider" },
];

describe("malformed requests", () => {
  it("has a case table of at least 30 requests", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)("$name → $status $code", async (c) => {
    const before = fakeCloud.calls.length;
    const auth = c.auth ?? "user";
    const bearer = { none: undefined, user: token, admin: ADMIN_TOKEN, garbage: "not-a-token" }[auth];
    const res = await call(c.method ?? "POST", c.path ?? "/v1/leases", {
      token: bearer,
      body: c.body?.(key),
      rawBody: c.raw,
      headers: c.headers ?? (c.raw ? { "content-type": "application/json" } : undefined),
    });
    expect(res.status, res.text).toBe(c.status);
    expect(res.json.error.code).toBe(c.code);
    expect(typeof res.json.error.message).toBe("string");
    expect(res.json.error.message).not.toMatch(/at .*\.ts|stack/i);
    expect(fakeCloud.calls.length).toBe(before);
  });

  it("a chunked body over the limit is refused while it is read, not after", async () => {
    let pulled = 0;
    const chunk = new TextEncoder().encode(`{"provider":"fakecloud","image":"${"x".repeat(4_000)}`);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1_000) controller.close(); // a 4 MB body, were it read whole
        else controller.enqueue(chunk);
      },
    });
    const request = new Request("https://crabbox.test/v1/leases", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
      // @ts-expect-error: workerd's RequestInit has no duplex; Node's needs it for a stream body
      duplex: "half",
    });
    expect(request.headers.get("content-length")).toBeNull();
    const res = await exports.default.fetch(request);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe("body_too_large");
    expect(pulled).toBeLessThan(20); // 64 KiB is 16 chunks of 4 KB
  });

  it("left no lease behind", async () => {
    const res = await call("GET", "/v1/leases", { token });
    expect(res.json.leases).toEqual([]);
  });
});
